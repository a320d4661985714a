// The learned evaluator's projection P (see src/cache/learned.h): a linear map of the unit
// embeddings, initialised to the identity and fitted so that sigmoid(scale * (cos(P a, P b) - bias))
// predicts the pair's label (QQP: duplicate or not), with minibatch Adam from a fixed seed.
// A metric learnt beside the frozen encoder: the index keeps ranking by the encoder's cosine,
// the evaluator gets cos(P u, P v) as one more feature.
// One epoch over ~26k pairs (39 s on one core here): measured on QQP validation, a second and
// third epoch added 1 point of duplicates hit at 5% false hits and cost GPTCache mock_data right
// hits (its paraphrases reword more than QQP's).

/**
 * @param {Float32Array[]} A unit embeddings of the first prompts
 * @param {Float32Array[]} B unit embeddings of the second prompts
 * @param {number[]} Y labels (1 = same question)
 * @returns {Float32Array} P, (dim, dim) row-major
 */
export function trainProjection(A, B, Y, { epochs = 1, lr = 1e-3, scale = 20, batch = 64, seed = 7, log = () => {} } = {}) {
  const D = A[0].length;
  const W = new Float32Array(D * D);
  for (let i = 0; i < D; i++) W[i * D + i] = 1;
  const G = new Float32Array(D * D), m1 = new Float32Array(D * D), v1 = new Float32Array(D * D);
  let bias = 0.8, step = 0, s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const dot = (a, b) => {
    let t = 0;
    for (let i = 0; i < a.length; i++) t += a[i] * b[i];
    return t;
  };
  // o = W x (D); returns the unit o and its norm
  const project = (x) => {
    const o = new Float32Array(D);
    for (let i = 0; i < D; i++) {
      let t = 0;
      const r = i * D;
      for (let j = 0; j < D; j++) t += W[r + j] * x[j];
      o[i] = t;
    }
    const n = Math.sqrt(dot(o, o));
    for (let i = 0; i < D; i++) o[i] /= n;
    return { u: o, n };
  };
  // dL/du -> dL/dW through the normalisation: do = (g - u (u.g)) / n, dW += do x^T
  const back = (g, p, x) => {
    const ug = dot(p.u, g);
    for (let i = 0; i < D; i++) {
      const d = (g[i] - p.u[i] * ug) / p.n;
      const r = i * D;
      for (let j = 0; j < D; j++) G[r + j] += d * x[j];
    }
  };
  const order = Y.map((_, i) => i);
  for (let ep = 1; ep <= epochs; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let loss = 0, n = 0;
    for (let b0 = 0; b0 + batch <= order.length; b0 += batch) {
      G.fill(0);
      let gBias = 0;
      for (let k = b0; k < b0 + batch; k++) {
        const i = order[k];
        const pa = project(A[i]), pb = project(B[i]);
        const p = 1 / (1 + Math.exp(-scale * (dot(pa.u, pb.u) - bias)));
        loss -= Y[i] ? Math.log(p + 1e-9) : Math.log(1 - p + 1e-9);
        const dz = (p - Y[i]) / batch;  // d loss / d (scale * (cos - bias))
        gBias -= dz * scale;
        back(pb.u.map((x) => dz * scale * x), pa, A[i]);
        back(pa.u.map((x) => dz * scale * x), pb, B[i]);
      }
      step++;
      for (let i = 0; i < W.length; i++) {
        m1[i] = 0.9 * m1[i] + 0.1 * G[i];
        v1[i] = 0.999 * v1[i] + 0.001 * G[i] * G[i];
        W[i] -= (lr * (m1[i] / (1 - 0.9 ** step))) / (Math.sqrt(v1[i] / (1 - 0.999 ** step)) + 1e-8);
      }
      bias -= 0.01 * gBias;
      n += batch;
    }
    log(`projection: epoch ${ep} loss ${(loss / n).toFixed(4)}`);
  }
  return W;
}
