"""Descriptors written back as .proto text compile to the very same descriptor."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2

from eventscope.registry.proto_text import NotRenderable, render
from eventscope.schemas.protobuf.compile import compile_schema

PROTO3 = """syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
option java_package = "com.shop.v1";
option go_package = "shop/v1";

message Order {
  message Line {
    string sku = 1;
    int32 quantity = 2 [deprecated = true];
  }
  enum State {
    option allow_alias = true;
    STATE_UNSPECIFIED = 0;
    OPEN = 1;
    STARTED = 1;
    reserved 5 to 9;
    reserved "CLOSED";
  }
  string id = 1;
  repeated Line lines = 2;
  map<string, int64> totals = 3;
  optional string note = 4;
  oneof payment {
    string card = 5;
    bytes voucher = 6;
  }
  google.protobuf.Timestamp at = 7;
  State state = 8;
  repeated int32 codes = 9 [packed = false];
  string customer_id = 10 [json_name = "customer"];
  reserved 20, 22 to 30;
  reserved "legacy";
}

service Orders {
  rpc Place(Order) returns (Order);
  rpc Watch(Order) returns (stream Order);
}
"""

PROTO2 = """syntax = "proto2";
package legacy;
message Account {
  required string id = 1;
  optional int32 level = 2 [default = 3];
  optional string name = 3 [default = "anonymous \\"x\\""];
  optional Kind kind = 4 [default = PERSONAL];
  optional double ratio = 5 [default = -1.5];
  optional bool active = 6 [default = true];
  repeated Account children = 7;
  extensions 100 to max;
  enum Kind {
    PERSONAL = 1;
    BUSINESS = 2;
  }
}
"""


def comparable(file: descriptor_pb2.FileDescriptorProto) -> bytes:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    copy.ClearField("name")
    copy.ClearField("source_code_info")
    return copy.SerializeToString(deterministic=True)


@pytest.mark.parametrize("text", [PROTO3, PROTO2], ids=["proto3", "proto2"])
def test_rendered_text_compiles_to_the_same_descriptor(text: str) -> None:
    original = compile_schema(text).main
    rendered = render(original)
    assert comparable(compile_schema(rendered).main) == comparable(original), rendered


def test_what_cannot_be_written_faithfully_is_said() -> None:
    text = 'syntax = "proto2";\nmessage A {\n  optional group G = 1 { optional int32 x = 2; }\n}'
    group = compile_schema(text).main
    with pytest.raises(NotRenderable, match="groups"):
        render(group)
