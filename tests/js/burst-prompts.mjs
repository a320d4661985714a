// Paraphrases for the burst tests and bench/adapters.mjs (plain JS so that the bench can use them).

/** 20 paraphrases of one question: each shares all but a word or two with the others (the toy
 * embedder is a bag of words; all pairs are above 0.8). */
export const BURST = [
  'what is the capital city of france', 'so what is the capital city of france', 'what is the capital city of france now',
  'tell me what is the capital city of france', 'what is the capital city of france please', 'what is the capital city of france today',
  'what is the capital city of france again', 'hey what is the capital city of france', 'what is the capital city of france exactly',
  'what is the capital city of france anyway', 'quick what is the capital city of france', 'what is the capital city of france then',
  'ok what is the capital city of france', 'what is the capital city of france really', 'what is the capital city of france currently',
  'well what is the capital city of france', 'what is the capital city of france precisely', 'now what is the capital city of france',
  'what is the capital city of france actually', 'and what is the capital city of france',
];

/** 20 paraphrases of one question that the bundled encoder (USE lite) puts pairwise at cosine
 * >= 0.953, above its 0.95 default threshold: whichever is first, the others would hit it. */
export const BURST_USE = [
  'How can I learn Python quickly now ?', 'How can I learn Python quickly now?', 'How can I learn Python quickly now??', 'How do I learn Python quickly now ?',
  'How do I learn Python quickly now?', 'How can I learn Python quickly ?', 'How do I learn Python quickly now??', 'how do I learn Python quickly now?',
  'how do I learn Python quickly now ?', 'How can I learn Python quickly??', 'How do I learn Python quickly ?', 'How can I learn Python quickly?',
  'how do I learn Python quickly now??', 'How do I ever learn Python quickly now ?', 'How do I learn Python quickly??', 'How do I learn Python quickly?',
  'So how do I learn Python quickly now ?', 'how do I learn Python quickly ?', 'How can I learn Python fast ?', 'how do I learn Python quickly?',
];
