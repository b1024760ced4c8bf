/**
 * Fixing an ONNX graph's symbolic dimensions in the file itself (`batch` → 2, `height` → 24, …), the edit that lets
 * onnxruntime fold a dynamic-shape export's shape arithmetic into constants (issue #25: the session option
 * `freeDimensionOverrides` would do the same, but onnxruntime-node 1.30's binding never reads it).
 *
 * The edit works on the protobuf wire format: it walks ModelProto.graph → GraphProto.{input, output, value_info} →
 * ValueInfoProto.type → TypeProto.tensor_type → shape → dim and rewrites a Dimension whose dim_param is in the map
 * into a dim_value; every other byte is copied as it is (initializers, external-data references, fields of newer
 * ONNX versions). So a graph whose weights live in an external-data file keeps pointing at that same file, and the
 * new graph file is as small as the original one. Field numbers: onnx/onnx.proto (stable since IR version 3).
 */
import protobuf from 'protobufjs/minimal.js';

/**
 * ONNX field numbers (onnx/onnx.proto), shared with the small graph writer of the benchmarks
 * (bench/support/onnx-graph.ts) so that the project has one copy of them.
 */
export const ONNX_FIELD = {
  MODEL_IR_VERSION: 1,
  MODEL_PRODUCER_NAME: 2,
  MODEL_GRAPH: 7,
  MODEL_OPSET_IMPORT: 8,
  OPSET_DOMAIN: 1,
  OPSET_VERSION: 2,
  GRAPH_NODE: 1,
  GRAPH_NAME: 2,
  GRAPH_INITIALIZER: 5,
  GRAPH_INPUT: 11,
  GRAPH_OUTPUT: 12,
  GRAPH_VALUE_INFO: 13,
  NODE_INPUT: 1,
  NODE_OUTPUT: 2,
  NODE_NAME: 3,
  NODE_OP_TYPE: 4,
  NODE_ATTRIBUTE: 5,
  NODE_DOMAIN: 7,
  ATTRIBUTE_NAME: 1,
  ATTRIBUTE_F: 2,
  ATTRIBUTE_I: 3,
  ATTRIBUTE_TYPE: 20,
  TENSOR_DIMS: 1,
  TENSOR_DATA_TYPE: 2,
  TENSOR_NAME: 8,
  TENSOR_RAW_DATA: 9,
  VALUE_INFO_NAME: 1,
  VALUE_INFO_TYPE: 2,
  TYPE_TENSOR: 1,
  TENSOR_TYPE_ELEM_TYPE: 1,
  TENSOR_TYPE_SHAPE: 2,
  SHAPE_DIM: 1,
  DIM_VALUE: 1,
  DIM_PARAM: 2,
} as const;

const WIRE_LEN = 2;
const {
  MODEL_GRAPH,
  GRAPH_INPUT,
  GRAPH_OUTPUT,
  GRAPH_VALUE_INFO,
  VALUE_INFO_NAME,
  VALUE_INFO_TYPE,
  TYPE_TENSOR,
  TENSOR_TYPE_SHAPE: TENSOR_SHAPE,
  SHAPE_DIM,
  DIM_VALUE,
  DIM_PARAM,
} = ONNX_FIELD;

/** Where a symbol was seen: the graph input/output/intermediate value's name and the dimension's position. */
export interface SymbolUse {
  value: string;
  kind: 'input' | 'output' | 'value_info';
  axis: number;
  symbol: string;
}

export interface FixDimsResult {
  bytes: Uint8Array;
  /** Symbols that were replaced (at least once). */
  fixed: string[];
  /** Symbols still symbolic in the graph's inputs or outputs (intermediate values are left to onnxruntime). */
  remaining: SymbolUse[];
}

type FieldRewrite = (payload: Uint8Array) => Uint8Array;

/**
 * Copies `message` field by field; length-delimited fields with a rewrite in `rewrites` (by field number) are replaced
 * by the rewrite's output, re-prefixed with their new length.
 */
function rewriteMessage(message: Uint8Array, rewrites: ReadonlyMap<number, FieldRewrite>): Uint8Array {
  const reader = protobuf.Reader.create(message);
  const chunks: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const rewrite = (tag & 7) === WIRE_LEN ? rewrites.get(tag >>> 3) : undefined;
    if (rewrite) {
      const payload = reader.bytes();
      chunks.push(protobuf.Writer.create().uint32(tag).bytes(rewrite(payload)).finish());
    } else {
      reader.skipType(tag & 7);
      chunks.push(message.subarray(start, reader.pos));
    }
  }
  return Buffer.concat(chunks);
}

/** Calls `visit(fieldNumber, wireType, reader)` for each field of `message`; `visit` must consume the field's payload. */
function readFields(message: Uint8Array, visit: (field: number, wire: number, reader: protobuf.Reader) => boolean): void {
  const reader = protobuf.Reader.create(message);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (!visit(tag >>> 3, tag & 7, reader)) reader.skipType(tag & 7);
  }
}

/** The string field `field` of `message` (the last one, as protobuf reads repeated scalars), or undefined. */
function stringField(message: Uint8Array, field: number): string | undefined {
  let value: string | undefined;
  readFields(message, (f, wire, reader) => {
    if (f !== field || wire !== WIRE_LEN) return false;
    value = reader.string();
    return true;
  });
  return value;
}

/** The Dimension with dim_param replaced by dim_value `value` (its denotation and anything else kept). */
function fixedDim(dim: Uint8Array, value: number): Uint8Array {
  const chunks: Uint8Array[] = [protobuf.Writer.create().uint32(DIM_VALUE << 3).int64(value).finish()];
  // Keep every field except dim_param / dim_value (a oneof: exactly one of them may be written).
  const reader = protobuf.Reader.create(dim);
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    const field = tag >>> 3;
    if (field !== DIM_PARAM && field !== DIM_VALUE) chunks.push(dim.subarray(start, reader.pos));
  }
  return Buffer.concat(chunks);
}

/**
 * Rewrites the symbolic dims of `model` (a serialized ModelProto) that `dims` names, in the graph's inputs, outputs
 * and intermediate value_info. Subgraphs (If/Loop bodies) and functions are left as they are.
 */
export function fixSymbolicDims(model: Uint8Array, dims: Readonly<Record<string, number>>): FixDimsResult {
  for (const [symbol, value] of Object.entries(dims)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`fixSymbolicDims: ${symbol} must be a positive integer, got ${value}`);
  }
  const fixed = new Set<string>();
  const remaining: SymbolUse[] = [];
  const valueInfoRewrite =
    (kind: SymbolUse['kind']): FieldRewrite =>
    (valueInfo) => {
      const name = stringField(valueInfo, VALUE_INFO_NAME) ?? '';
      let axis = 0;
      const dimRewrite: FieldRewrite = (dim) => {
        const here = axis++;
        const symbol = stringField(dim, DIM_PARAM);
        if (symbol === undefined) return dim;
        const value = Object.hasOwn(dims, symbol) ? dims[symbol] : undefined;
        if (value === undefined) {
          if (kind !== 'value_info') remaining.push({ value: name, kind, axis: here, symbol });
          return dim;
        }
        fixed.add(symbol);
        return fixedDim(dim, value);
      };
      const shape: FieldRewrite = (s) => rewriteMessage(s, new Map([[SHAPE_DIM, dimRewrite]]));
      const tensorType: FieldRewrite = (t) => rewriteMessage(t, new Map([[TENSOR_SHAPE, shape]]));
      const type: FieldRewrite = (t) => rewriteMessage(t, new Map([[TYPE_TENSOR, tensorType]]));
      return rewriteMessage(valueInfo, new Map([[VALUE_INFO_TYPE, type]]));
    };
  const graph: FieldRewrite = (g) =>
    rewriteMessage(
      g,
      new Map([
        [GRAPH_INPUT, valueInfoRewrite('input')],
        [GRAPH_OUTPUT, valueInfoRewrite('output')],
        [GRAPH_VALUE_INFO, valueInfoRewrite('value_info')],
      ]),
    );
  const bytes = rewriteMessage(model, new Map([[MODEL_GRAPH, graph]]));
  return { bytes, fixed: [...fixed], remaining };
}

/** The graph's inputs with their dims: numbers for fixed sizes, strings for symbols, null for unknown. */
export function graphInputShapes(model: Uint8Array): Map<string, (number | string | null)[]> {
  const shapes = new Map<string, (number | string | null)[]>();
  readFields(model, (field, wire, reader) => {
    if (field !== MODEL_GRAPH || wire !== WIRE_LEN) return false;
    readFields(reader.bytes(), (gField, gWire, g) => {
      if (gField !== GRAPH_INPUT || gWire !== WIRE_LEN) return false;
      const valueInfo = g.bytes();
      const dims: (number | string | null)[] = [];
      readFields(valueInfo, (vField, vWire, v) => {
        if (vField !== VALUE_INFO_TYPE || vWire !== WIRE_LEN) return false;
        readFields(v.bytes(), (tField, tWire, t) => {
          if (tField !== TYPE_TENSOR || tWire !== WIRE_LEN) return false;
          readFields(t.bytes(), (sField, sWire, s) => {
            if (sField !== TENSOR_SHAPE || sWire !== WIRE_LEN) return false;
            readFields(s.bytes(), (dField, dWire, d) => {
              if (dField !== SHAPE_DIM || dWire !== WIRE_LEN) return false;
              let dim: number | string | null = null;
              readFields(d.bytes(), (xField, xWire, x) => {
                if (xField === DIM_VALUE && xWire === 0) dim = protobuf.util.LongBits.from(x.int64()).toNumber();
                else if (xField === DIM_PARAM && xWire === WIRE_LEN) dim = x.string();
                else return false;
                return true;
              });
              dims.push(dim);
              return true;
            });
            return true;
          });
          return true;
        });
        return true;
      });
      shapes.set(stringField(valueInfo, VALUE_INFO_NAME) ?? '', dims);
      return true;
    });
    return true;
  });
  return shapes;
}
