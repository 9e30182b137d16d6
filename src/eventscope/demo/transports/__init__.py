"""One demo transport per broker; see :mod:`eventscope.demo.transport`."""
