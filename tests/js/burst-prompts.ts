// Paraphrases for the burst tests (burst, adapters, edge).

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
