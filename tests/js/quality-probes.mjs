// An everyday probe set for hit quality, written for this project (not taken from QQP or
// mock_data): for each cached question, rewordings that must hit it and near misses that must
// not hit anything. Kinds: 'case' and 'punctuation' (the same words), 'paraphrase' (synonyms,
// word order, another phrasing); near misses: 'entity', 'number', 'unit', 'date', 'polarity',
// 'negation', 'reversal' (swapped arguments). All cached questions share one scope, so a
// rewording that hits another cached question is wrong too.
// Used by tests/js/quality-probes.test.ts (the default's results) and `npm run bench -- quality`.

/** @type {{cached: string, hit: [string, string][], miss: [string, string][]}[]} */
export const PROBES = [
  {
    cached: 'How do I learn Python quickly?',
    hit: [['how do i learn python quickly', 'case'], ['HOW DO I LEARN PYTHON QUICKLY?', 'case'], ['How do I learn Python quickly', 'punctuation'], ['How can I learn Python fast?', 'paraphrase'], ["What's the fastest way to learn Python?", 'paraphrase']],
    miss: [['How do I learn Java quickly?', 'entity'], ['How do I learn Python slowly?', 'polarity']],
  },
  {
    cached: 'Which planet is closest to the sun?',
    hit: [['which planet is closest to the sun', 'case'], ['What planet is nearest to the sun?', 'paraphrase'], ['Which planet is the closest one to the Sun?', 'paraphrase']],
    miss: [['Which planet is farthest from the sun?', 'polarity'], ['Which planet is closest to the Earth?', 'entity']],
  },
  {
    cached: 'How many ounces are in a cup?',
    hit: [['How many ounces are in a cup', 'punctuation'], ['how many ounces in a cup?', 'paraphrase'], ['How many ounces are there in one cup?', 'paraphrase']],
    miss: [['How many ounces are in a gallon?', 'unit'], ['How many grams are in a cup?', 'unit']],
  },
  {
    cached: 'Convert 100 Fahrenheit to Celsius',
    hit: [['convert 100 fahrenheit to celsius', 'case'], ['Convert 100 Fahrenheit to Celsius.', 'punctuation'], ['What is 100 Fahrenheit in Celsius?', 'paraphrase'], ['Convert 100 degrees Fahrenheit to Celsius', 'paraphrase']],
    miss: [['Convert 100 Celsius to Fahrenheit', 'reversal'], ['Convert 200 Fahrenheit to Celsius', 'number']],
  },
  {
    cached: 'What is the capital of Australia?',
    hit: [['what is the capital of australia', 'case'], ["What's the capital of Australia?", 'paraphrase'], ['What is the capital city of Australia?', 'paraphrase'], ["Australia's capital is which city?", 'paraphrase']],
    miss: [['What is the capital of Austria?', 'entity'], ['What is the largest city of Australia?', 'entity']],
  },
  {
    cached: 'When did World War II end?',
    hit: [['WHEN DID WORLD WAR II END?', 'case'], ['When did World War II end??', 'punctuation'], ['In what year did World War II end?', 'paraphrase'], ['When did the Second World War end?', 'paraphrase']],
    miss: [['When did World War I end?', 'number'], ['When did World War II start?', 'polarity']],
  },
  {
    cached: 'Is coffee bad for your health?',
    hit: [['is coffee bad for your health', 'case'], ['Is coffee unhealthy?', 'paraphrase'], ['Is drinking coffee bad for your health?', 'paraphrase']],
    miss: [['Is coffee good for your health?', 'polarity'], ['Is soda bad for your health?', 'entity']],
  },
  {
    cached: 'How do I reset my password?',
    hit: [['how do I reset my password', 'case'], ['How do I reset my password?!', 'punctuation'], ['How can I reset my password?', 'paraphrase'], ['What are the steps to reset my password?', 'paraphrase']],
    miss: [['How do I reset my router?', 'entity'], ['How do I reset my PIN code?', 'entity']],
  },
  {
    cached: 'What time zone is New York in?',
    hit: [['what time zone is new york in?', 'case'], ['Which time zone is New York in?', 'paraphrase'], ['What timezone is New York City in?', 'paraphrase']],
    miss: [['What time zone is Los Angeles in?', 'entity'], ['What time zone is Tokyo in?', 'entity']],
  },
  {
    cached: 'How long should I boil an egg?',
    hit: [['How long should I boil an egg', 'punctuation'], ['How long do I boil an egg for?', 'paraphrase'], ['How many minutes should I boil an egg?', 'paraphrase']],
    miss: [['How long should I boil pasta?', 'entity'], ['How long should I fry an egg?', 'entity']],
  },
  {
    cached: 'What is the boiling point of water at sea level?',
    hit: [["what's the boiling point of water at sea level", 'paraphrase'], ["At sea level, what is water's boiling point?", 'paraphrase']],
    miss: [['What is the freezing point of water at sea level?', 'polarity'], ['What is the boiling point of water at 3000 meters?', 'unit']],
  },
  {
    cached: 'Can dogs eat grapes?',
    hit: [['can dogs eat grapes', 'case'], ['Can a dog eat grapes?', 'paraphrase'], ['Are grapes safe for dogs to eat?', 'paraphrase']],
    miss: [['Can cats eat grapes?', 'entity'], ['Can dogs eat bananas?', 'entity']],
  },
  {
    cached: 'What was the population of Canada in 2020?',
    hit: [['What was the population of Canada in 2020', 'punctuation'], ["What was Canada's population in 2020?", 'paraphrase'], ['How many people lived in Canada in 2020?', 'paraphrase']],
    miss: [['What was the population of Canada in 1990?', 'date'], ['What was the population of Mexico in 2020?', 'entity']],
  },
  {
    cached: 'How do I transfer money from PayPal to my bank account?',
    hit: [['how do i transfer money from paypal to my bank account', 'case'], ['How can I move money from PayPal to my bank account?', 'paraphrase']],
    miss: [['How do I transfer money from my bank account to PayPal?', 'reversal'], ['How do I transfer money from Venmo to my bank account?', 'entity']],
  },
  {
    cached: 'What are the symptoms of vitamin D deficiency?',
    hit: [['what are the symptoms of vitamin d deficiency?', 'case'], ['What are the signs of vitamin D deficiency?', 'paraphrase'], ['What are the symptoms of a vitamin D deficiency?', 'paraphrase']],
    miss: [['What are the symptoms of vitamin B12 deficiency?', 'entity'], ['What are the symptoms of iron deficiency?', 'entity']],
  },
  {
    cached: 'Who wrote Pride and Prejudice?',
    hit: [['who wrote pride and prejudice', 'case'], ['Who is the author of Pride and Prejudice?', 'paraphrase']],
    miss: [['Who wrote War and Peace?', 'entity'], ['Who wrote Sense and Sensibility?', 'entity']],
  },
  {
    cached: 'How far is the Moon from the Earth?',
    hit: [['How far is the Moon from the Earth', 'punctuation'], ['How far away is the moon from earth?', 'paraphrase'], ['What is the distance between the Earth and the Moon?', 'paraphrase']],
    miss: [['How far is Mars from the Earth?', 'entity'], ['How far is the Sun from the Earth?', 'entity']],
  },
  {
    cached: 'What should I eat before running a marathon?',
    hit: [['what should I eat before running a marathon', 'case'], ['What should I eat before a marathon?', 'paraphrase'], ["What's good to eat before running a marathon?", 'paraphrase']],
    miss: [['What should I eat after running a marathon?', 'date'], ['What should I drink before running a marathon?', 'entity']],
  },
  {
    cached: 'Is it safe to fly during pregnancy?',
    hit: [['is it safe to fly during pregnancy', 'case'], ['Is flying safe while pregnant?', 'paraphrase'], ['Is it safe to fly while pregnant?', 'paraphrase']],
    miss: [['Is it safe to drink alcohol during pregnancy?', 'entity'], ['Is it safe to fly after surgery?', 'entity']],
  },
  {
    cached: 'How many calories are in a banana?',
    hit: [['HOW MANY CALORIES ARE IN A BANANA?', 'case'], ['How many calories does a banana have?', 'paraphrase'], ['How many calories in a banana?', 'paraphrase']],
    miss: [['How many calories are in an apple?', 'entity'], ['How much protein is in a banana?', 'entity']],
  },
  {
    cached: 'What is the best laptop under $1000?',
    hit: [['what is the best laptop under $1000', 'case'], ['Which is the best laptop for under $1000?', 'paraphrase']],
    miss: [['What is the best laptop under $500?', 'number'], ['What is the best phone under $1000?', 'entity']],
  },
  {
    cached: 'Why is the sky blue?',
    hit: [['why is the sky blue', 'case'], ['Why is the sky blue ?', 'punctuation'], ['Why does the sky look blue?', 'paraphrase'], ['What makes the sky blue?', 'paraphrase']],
    miss: [['Why is the sea blue?', 'entity'], ['Why is the sunset red?', 'entity']],
  },
  {
    cached: 'Should I rent or buy a house?',
    hit: [['should i rent or buy a house?', 'case'], ['Is it better to rent or buy a house?', 'paraphrase'], ['Should I buy or rent a house?', 'paraphrase']],
    miss: [['Should I rent or buy a car?', 'entity'], ['Should I rent or buy a boat?', 'entity']],
  },
  {
    cached: 'What is the speed limit on German highways?',
    hit: [['what is the speed limit on german highways', 'case'], ["What's the speed limit on highways in Germany?", 'paraphrase']],
    miss: [['What is the speed limit on French highways?', 'entity'], ['What is the minimum speed on German highways?', 'polarity']],
  },
  {
    cached: 'How do you say thank you in Japanese?',
    hit: [['how do you say thank you in japanese', 'case'], ['How do you say "thank you" in Japanese?', 'punctuation'], ['How to say thank you in Japanese?', 'paraphrase']],
    miss: [['How do you say thank you in Korean?', 'entity'], ['How do you say sorry in Japanese?', 'entity']],
  },
  {
    cached: 'What is 15 percent of 80?',
    hit: [['what is 15 percent of 80', 'case'], ['What is 15% of 80?', 'paraphrase'], ["What's 15 percent of 80?", 'paraphrase']],
    miss: [['What is 15 percent of 90?', 'number'], ['What is 80 percent of 15?', 'reversal']],
  },
  {
    cached: 'How do I get rid of ants in my kitchen?',
    hit: [['How do I get rid of ants in my kitchen', 'punctuation'], ['How can I get rid of ants in my kitchen?', 'paraphrase'], ['How do I get rid of the ants in my kitchen?', 'paraphrase']],
    miss: [['How do I get rid of mice in my kitchen?', 'entity'], ['How do I get rid of ants in my garden?', 'entity']],
  },
  {
    cached: 'Who won the 2018 FIFA World Cup?',
    hit: [['who won the 2018 fifa world cup', 'case'], ['Who won the FIFA World Cup in 2018?', 'paraphrase'], ['Which country won the 2018 FIFA World Cup?', 'paraphrase']],
    miss: [['Who won the 2014 FIFA World Cup?', 'date'], ['Who lost the 2018 FIFA World Cup final?', 'polarity']],
  },
  {
    cached: 'Is it cheaper to fly on a Tuesday?',
    hit: [['is it cheaper to fly on a tuesday', 'case'], ['Is it cheaper to fly on Tuesdays?', 'paraphrase'], ['Are flights cheaper on a Tuesday?', 'paraphrase']],
    miss: [['Is it cheaper to fly on a Friday?', 'date'], ['Is it more expensive to fly on a Tuesday?', 'polarity']],
  },
  {
    cached: 'Can I take ibuprofen with alcohol?',
    hit: [['can i take ibuprofen with alcohol', 'case'], ['Is it safe to take ibuprofen with alcohol?', 'paraphrase'], ['Can I take ibuprofen with alcohol??', 'punctuation']],
    miss: [['Can I take ibuprofen with coffee?', 'entity'], ['Can I take aspirin with alcohol?', 'entity']],
  },
  {
    cached: 'What is the difference between a virus and bacteria?',
    hit: [['what is the difference between a virus and bacteria', 'case'], ["What's the difference between viruses and bacteria?", 'paraphrase'], ['How are viruses different from bacteria?', 'paraphrase']],
    miss: [['What is the difference between a virus and a fungus?', 'entity'], ['What is the difference between a virus and a worm?', 'entity']],
  },
  {
    cached: 'Which foods are safe for cats?',
    hit: [['which foods are safe for cats', 'case'], ['What foods are safe for cats?', 'paraphrase'], ['Which foods are safe for cats to eat?', 'paraphrase']],
    miss: [['Which foods are not safe for cats?', 'negation'], ['Which foods are safe for rabbits?', 'entity']],
  },
  {
    cached: 'Do I need a visa to visit Japan?',
    hit: [['do i need a visa to visit japan', 'case'], ['Do I need a visa to travel to Japan?', 'paraphrase'], ['Is a visa required to visit Japan?', 'paraphrase']],
    miss: [['Do I need a visa to visit Brazil?', 'entity'], ["Why don't I need a visa to visit Japan?", 'negation']],
  },
  {
    cached: 'Is Spanish harder to learn than French?',
    hit: [['is spanish harder to learn than french', 'case'], ['Is Spanish more difficult to learn than French?', 'paraphrase']],
    miss: [['Is French harder to learn than Spanish?', 'reversal'], ['Is Spanish harder to learn than Italian?', 'entity']],
  },
  {
    cached: 'Can you freeze cooked rice?',
    hit: [['can you freeze cooked rice', 'case'], ['Can cooked rice be frozen?', 'paraphrase'], ['Is it okay to freeze cooked rice?', 'paraphrase']],
    miss: [['Can you freeze uncooked rice?', 'negation'], ['Can you freeze cooked pasta?', 'entity']],
  },
  {
    cached: 'What is the minimum wage in California?',
    hit: [['what is the minimum wage in california', 'case'], ["What's California's minimum wage?", 'paraphrase'], ['What is the minimum wage in the state of California?', 'paraphrase']],
    miss: [['What is the minimum wage in Texas?', 'entity'], ['What is the maximum wage in California?', 'polarity']],
  },
  {
    cached: 'How many weeks are in a year?',
    hit: [['how many weeks are in a year', 'case'], ['How many weeks are there in a year?', 'paraphrase'], ['How many weeks does a year have?', 'paraphrase']],
    miss: [['How many days are in a year?', 'unit'], ['How many weeks are in a month?', 'unit']],
  },
  {
    cached: 'How do I remove a stripped screw?',
    hit: [['HOW DO I REMOVE A STRIPPED SCREW', 'case'], ['How can I get a stripped screw out?', 'paraphrase'], ["What's the best way to remove a stripped screw?", 'paraphrase']],
    miss: [['How do I remove a rusted screw?', 'entity'], ['How do I tighten a stripped screw?', 'polarity']],
  },
  {
    cached: 'Will it rain in Seattle tomorrow?',
    hit: [['will it rain in seattle tomorrow', 'case'], ['Is it going to rain in Seattle tomorrow?', 'paraphrase']],
    miss: [['Will it rain in Seattle today?', 'date'], ['Will it snow in Seattle tomorrow?', 'entity']],
  },
];

/** Flat cases: {cached, query, expect: 'hit' | 'miss', kind}. */
export function probeCases() {
  return flattenProbes(PROBES);
}

/** The flat cases of a probe list of this shape (also the dev set's, tools/evaluator-dev).
 * @param {{cached: string, hit: [string, string][], miss: [string, string][]}[]} probes */
export function flattenProbes(probes) {
  return probes.flatMap((p) => [
    ...p.hit.map(([query, kind]) => ({ cached: p.cached, query, expect: 'hit', kind })),
    ...p.miss.map(([query, kind]) => ({ cached: p.cached, query, expect: 'miss', kind })),
  ]);
}
