/** The AdamW optimizer of the engine's training: a JS step and, where available, WebAssembly SIMD with the moments kept in wasm memory. */
import { adamScalars, createSimdAdamW } from "./wasm-simd.js";

export interface AdamState {
  /** First-moment estimate, same length as the parameter. */
  m: Float32Array;
  /** Second-moment estimate, same length as the parameter. */
  v: Float32Array;
}

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled (AdamW) decay: shrinks parameters toward zero, i.e. the transform toward the identity. */
  weightDecay: number;
  /** 1-based count of steps taken, including this one (for bias correction). */
  step: number;
}

/** One AdamW update of `param` in place from `grad`. */
export function adamStep(param: Float32Array, grad: Float32Array, state: AdamState, config: AdamConfig): void {
  const { learningRate: lr, beta1, beta2, epsilon, weightDecay, step } = config;
  const c1 = 1 / (1 - beta1 ** step);
  const c2 = 1 / (1 - beta2 ** step);
  const decay = 1 - lr * weightDecay;
  const { m, v } = state;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i]! * decay - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + epsilon);
  }
}

/** AdamW bound to one parameter array, which each step updates in place. */
export interface AdamW {
  step(grad: Float32Array, config: AdamConfig): void;
}

/**
 * AdamW for `param` (which must not be written elsewhere between steps): on
 * WebAssembly SIMD with the moments resident in wasm memory where possible
 * (float32 arithmetic), else adamStep.
 */
export function createAdamW(param: Float32Array, options: { simd?: boolean } = {}): AdamW {
  const simdAdam = options.simd !== false ? createSimdAdamW(param) : null;
  if (simdAdam) {
    return {
      step(grad, config) {
        simdAdam.step(param, grad, adamScalars(config));
      },
    };
  }
  const state: AdamState = { m: new Float32Array(param.length), v: new Float32Array(param.length) };
  return { step: (grad, config) => adamStep(param, grad, state, config) };
}
