// Greedy stepping for the note model in the browser, as scribe/notes/stepper.py is the desktop's: the graph returns
// raw logits and the repetition penalty is applied to them here, in the desktop stepper's float32 arithmetic, so
// that a near-tie goes the same way on both. The engine (notes.js) decides when a section stops.

export const REPETITION_PENALTY = 1.05; // engine.REPETITION_PENALTY

// stepper.GreedyStepper._argmax: logits of ids already in the sequence (prompt included) divided by the
// penalty when positive, multiplied when negative, in float32 as numpy does; first maximum wins.
export function argmaxPenalized(logits, seen, penalty = REPETITION_PENALTY) {
  const p = Math.fround(penalty);
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    let v = logits[i];
    if (seen[i]) v = v > 0 ? Math.fround(v / p) : Math.fround(v * p);
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

// The k best [id, penalized logit], ties to the lower id: how close a greedy call was (the parity test).
export function topPenalized(logits, seen, k, penalty = REPETITION_PENALTY) {
  const p = Math.fround(penalty);
  const best = [];
  for (let i = 0; i < logits.length; i++) {
    let v = logits[i];
    if (seen[i]) v = v > 0 ? Math.fround(v / p) : Math.fround(v * p);
    if (best.length < k || v > best[best.length - 1][1]) {
      best.push([i, v]);
      best.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (best.length > k) best.pop();
    }
  }
  return best;
}
