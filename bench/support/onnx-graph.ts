/**
 * A small in-memory ONNX graph writer for the benchmarks (bench/webgpu-matmul.ts): nodes, initializers with raw data,
 * fixed-shape inputs and outputs, one opset. It writes the protobuf wire format with protobufjs' Writer and the field
 * numbers of gpu-runner/cascade/onnx-dims.ts (ONNX_FIELD), the module that reads and edits exported graphs.
 */
import protobuf from 'protobufjs/minimal.js';
import { ONNX_FIELD as F } from '../../gpu-runner/cascade/onnx-dims.ts';

/** ONNX TensorProto.DataType values for the element types the benchmarks use. */
export const ONNX_TYPE = { float32: 1, uint8: 2, float16: 10 } as const;
export type GraphElementType = keyof typeof ONNX_TYPE;

const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;

export interface GraphValue {
  name: string;
  type: GraphElementType;
  dims: readonly number[];
}

export interface GraphInitializer extends GraphValue {
  /** Little-endian element data: Float32Array for float32, Uint16Array (IEEE half bits) for float16, Uint8Array for uint8. */
  data: Float32Array | Uint16Array | Uint8Array;
}

export interface GraphNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator domain ('' = ONNX; 'com.microsoft' for onnxruntime's contrib ops such as MatMulNBits). */
  domain?: string;
  /** Integer attributes (transB: 1) and float attributes (alpha: 1.0); integers must be safe integers. */
  ints?: Readonly<Record<string, number>>;
  floats?: Readonly<Record<string, number>>;
}

export interface GraphSpec {
  name: string;
  inputs: readonly GraphValue[];
  outputs: readonly GraphValue[];
  initializers?: readonly GraphInitializer[];
  nodes: readonly GraphNode[];
  /** Default-domain opset (17: Gemm, MatMul, Add are all older). */
  opset?: number;
  /** Opsets of other domains the nodes use, e.g. { 'com.microsoft': 1 }. */
  domains?: Readonly<Record<string, number>>;
}

type Write = (w: protobuf.Writer) => void;

function message(write: Write): Uint8Array {
  const w = protobuf.Writer.create();
  write(w);
  return w.finish();
}

function field(w: protobuf.Writer, number: number, payload: Uint8Array): void {
  w.uint32((number << 3) | 2).bytes(payload);
}

function str(w: protobuf.Writer, number: number, value: string): void {
  w.uint32((number << 3) | 2).string(value);
}

function varint(w: protobuf.Writer, number: number, value: number): void {
  w.uint32(number << 3).int64(value);
}

function valueInfo(v: GraphValue): Uint8Array {
  for (const d of v.dims) if (!Number.isSafeInteger(d) || d < 1) throw new Error(`${v.name}: dims must be positive integers, got [${v.dims.join(', ')}]`);
  const shape = message((w) => {
    for (const d of v.dims) field(w, F.SHAPE_DIM, message((dw) => varint(dw, F.DIM_VALUE, d)));
  });
  const tensorType = message((w) => {
    varint(w, F.TENSOR_TYPE_ELEM_TYPE, ONNX_TYPE[v.type]);
    field(w, F.TENSOR_TYPE_SHAPE, shape);
  });
  return message((w) => {
    str(w, F.VALUE_INFO_NAME, v.name);
    field(w, F.VALUE_INFO_TYPE, message((tw) => field(tw, F.TYPE_TENSOR, tensorType)));
  });
}

function initializer(t: GraphInitializer): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const wanted = t.type === 'float16' ? Uint16Array : t.type === 'uint8' ? Uint8Array : Float32Array;
  if (!(t.data instanceof wanted)) throw new Error(`${t.name}: ${t.type} data must be a ${wanted.name}`);
  if (t.data.length !== count) throw new Error(`${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  return message((w) => {
    for (const d of t.dims) varint(w, F.TENSOR_DIMS, d);
    varint(w, F.TENSOR_DATA_TYPE, ONNX_TYPE[t.type]);
    str(w, F.TENSOR_NAME, t.name);
    w.uint32((F.TENSOR_RAW_DATA << 3) | 2).bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
}

function node(n: GraphNode, index: number): Uint8Array {
  return message((w) => {
    for (const i of n.inputs) str(w, F.NODE_INPUT, i);
    for (const o of n.outputs) str(w, F.NODE_OUTPUT, o);
    str(w, F.NODE_NAME, n.name ?? `${n.op}_${index}`);
    str(w, F.NODE_OP_TYPE, n.op);
    if (n.domain) str(w, F.NODE_DOMAIN, n.domain);
    for (const [name, value] of Object.entries(n.ints ?? {})) {
      if (!Number.isSafeInteger(value)) throw new Error(`${n.op} ${name}: integer attribute, got ${value}`);
      field(w, F.NODE_ATTRIBUTE, message((aw) => {
        str(aw, F.ATTRIBUTE_NAME, name);
        varint(aw, F.ATTRIBUTE_I, value);
        varint(aw, F.ATTRIBUTE_TYPE, ATTRIBUTE_INT);
      }));
    }
    for (const [name, value] of Object.entries(n.floats ?? {})) {
      field(w, F.NODE_ATTRIBUTE, message((aw) => {
        str(aw, F.ATTRIBUTE_NAME, name);
        aw.uint32((F.ATTRIBUTE_F << 3) | 5).float(value);
        varint(aw, F.ATTRIBUTE_TYPE, ATTRIBUTE_FLOAT);
      }));
    }
  });
}

/** The serialized ModelProto (IR version 8) of `spec`, ready for InferenceSession.create(bytes). */
export function buildModel(spec: GraphSpec): Uint8Array {
  const graph = message((w) => {
    spec.nodes.forEach((n, i) => field(w, F.GRAPH_NODE, node(n, i)));
    str(w, F.GRAPH_NAME, spec.name);
    for (const t of spec.initializers ?? []) field(w, F.GRAPH_INITIALIZER, initializer(t));
    for (const v of spec.inputs) field(w, F.GRAPH_INPUT, valueInfo(v));
    for (const v of spec.outputs) field(w, F.GRAPH_OUTPUT, valueInfo(v));
  });
  return message((w) => {
    varint(w, F.MODEL_IR_VERSION, 8);
    str(w, F.MODEL_PRODUCER_NAME, 'cascade-bot bench/support/onnx-graph.ts');
    field(w, F.MODEL_GRAPH, graph);
    for (const [domain, version] of [['', spec.opset ?? 17] as const, ...Object.entries(spec.domains ?? {})]) {
      field(w, F.MODEL_OPSET_IMPORT, message((ow) => {
        str(ow, F.OPSET_DOMAIN, domain);
        varint(ow, F.OPSET_VERSION, version);
      }));
    }
  });
}
