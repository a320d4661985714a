// What TypeScript callers (tests) use of onnx-builder.mjs.
type Dtype = 'float32' | 'int32' | 'int64' | 'bool';
export class OnnxGraph {
  constructor(name: string);
  input(name: string, dtype: Dtype, dims: (number | string)[]): string;
  output(name: string, dtype: Dtype, dims: (number | string)[]): string;
  init(name: string, dtype: Dtype, dims: number[], data: ArrayLike<number> | BigInt64Array): string;
  op(opType: string, inputs: string[], attrs?: Record<string, unknown>, outs?: number | string[]): string | string[];
  encode(o: { opset: number; producer?: string; producerVersion?: string; docString?: string; metadata?: Record<string, unknown> }): Uint8Array;
}
export function decodeModel(bytes: Uint8Array): unknown;
