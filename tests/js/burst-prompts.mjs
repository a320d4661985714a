// Paraphrases for the burst tests and bench/adapters.mjs (plain JS so that the bench can use them).

/** 20 paraphrases of one question: each shares all but a word or two with the others (the toy
 * embedder is a bag of words hashed into 64 dimensions; every pair is at cosine >= 0.818, above
 * the tests' 0.8 threshold, so whichever prompt of a burst leads, the others join it; checked by
 * tests/js/burst.test.ts). "tell me what is…" was here until 2026-12-04: at 0.7957 and 0.7997 to
 * two others, it made a second upstream call whenever one of those led a burst. */
export const BURST = [
  'what is the capital city of france', 'so what is the capital city of france', 'what is the capital city of france now',
  'say what is the capital city of france', 'what is the capital city of france please', 'what is the capital city of france today',
  'what is the capital city of france again', 'hey what is the capital city of france', 'what is the capital city of france exactly',
  'what is the capital city of france anyway', 'quick what is the capital city of france', 'what is the capital city of france then',
  'ok what is the capital city of france', 'what is the capital city of france really', 'what is the capital city of france currently',
  'well what is the capital city of france', 'what is the capital city of france precisely', 'now what is the capital city of france',
  'what is the capital city of france actually', 'and what is the capital city of france',
];

/** 20 paraphrases of one question that hit each other pairwise at the default setting (the
 * bundled tuned encoder and the learned evaluator; written for the original USE lite, which put
 * them pairwise at cosine >= 0.953): whichever is first, the others would hit it. Checked by
 * tests/js/server.test.ts. Until 2026-12-04 three were "How can I learn Python quickly?" (with
 * " ?" and "??"): the default of that day misses them against "How do I learn Python quickly
 * now?" (two words apart) one entry to a scope, so "How could / should I… now?" and "…really
 * quickly now?" took their places. */
export const BURST_USE = [
  'How can I learn Python quickly now ?', 'How can I learn Python quickly now?', 'How can I learn Python quickly now??', 'How do I learn Python quickly now ?',
  'How do I learn Python quickly now?', 'How could I learn Python quickly now?', 'How do I learn Python quickly now??', 'how do I learn Python quickly now?',
  'how do I learn Python quickly now ?', 'How do I learn Python really quickly now?', 'How do I learn Python quickly ?', 'How should I learn Python quickly now?',
  'how do I learn Python quickly now??', 'How do I ever learn Python quickly now ?', 'How do I learn Python quickly??', 'How do I learn Python quickly?',
  'So how do I learn Python quickly now ?', 'how do I learn Python quickly ?', 'How can I learn Python fast ?', 'how do I learn Python quickly?',
];
