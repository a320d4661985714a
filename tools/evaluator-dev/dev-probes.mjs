// The development probe set: what the evaluator's features and the default's operating point are
// tuned against, so that the probe set in tests/ (tests/js/quality-probes.mjs) stays a held-out
// test. Written for this project from scratch, after the test set and without copying its
// questions, entities or phrasings; not taken from QQP or mock_data. The same kinds: rewordings
// that must hit ('case', 'punctuation', 'paraphrase') and near misses that must not hit anything
// ('entity', 'number', 'unit', 'date', 'polarity', 'negation', 'reversal'); every cached
// question shares one scope. Read by tools/evaluator-dev/probe-report.mjs and
// `node bench/quality.mjs --probes dev`.
import { flattenProbes } from '../../tests/js/quality-probes.mjs';

/** @type {{cached: string, hit: [string, string][], miss: [string, string][]}[]} */
export const DEV_PROBES = [
  {
    cached: 'How do I make sourdough bread at home?',
    hit: [['how do i make sourdough bread at home', 'case'], ['How can I make sourdough bread at home?', 'paraphrase'], ["What's the best way to bake sourdough bread at home?", 'paraphrase']],
    miss: [['How do I make banana bread at home?', 'entity'], ['How do I make sourdough pizza at home?', 'entity']],
  },
  {
    cached: 'What is the tallest mountain in Europe?',
    hit: [['WHAT IS THE TALLEST MOUNTAIN IN EUROPE?', 'case'], ['Which mountain is the tallest in Europe?', 'paraphrase'], ["What's Europe's highest mountain?", 'paraphrase']],
    miss: [['What is the tallest mountain in Africa?', 'entity'], ['What is the smallest mountain in Europe?', 'polarity']],
  },
  {
    cached: 'How many teaspoons are in a tablespoon?',
    hit: [['how many teaspoons are in a tablespoon', 'case'], ['How many teaspoons in a tablespoon?', 'paraphrase'], ['How many teaspoons make a tablespoon?', 'paraphrase']],
    miss: [['How many tablespoons are in a cup?', 'unit'], ['How many teaspoons are in an ounce?', 'unit']],
  },
  {
    cached: 'Convert 5 miles to kilometers',
    hit: [['convert 5 miles to kilometers', 'case'], ['Convert 5 miles to kilometers.', 'punctuation'], ['How many kilometers is 5 miles?', 'paraphrase'], ['What is 5 miles in kilometers?', 'paraphrase']],
    miss: [['Convert 5 kilometers to miles', 'reversal'], ['Convert 8 miles to kilometers', 'number']],
  },
  {
    cached: 'What language is spoken in Brazil?',
    hit: [['what language is spoken in brazil', 'case'], ['What language do people speak in Brazil?', 'paraphrase'], ['Which language is spoken in Brazil?', 'paraphrase']],
    miss: [['What language is spoken in Argentina?', 'entity'], ['What language is spoken in Belgium?', 'entity']],
  },
  {
    cached: 'When was the Eiffel Tower built?',
    hit: [['when was the eiffel tower built?', 'case'], ['When was the Eiffel Tower built??', 'punctuation'], ['In what year was the Eiffel Tower built?', 'paraphrase'], ['When did they build the Eiffel Tower?', 'paraphrase']],
    miss: [['When was the Statue of Liberty built?', 'entity'], ['Why was the Eiffel Tower built?', 'entity']],
  },
  {
    cached: 'Is sugar bad for your teeth?',
    hit: [['is sugar bad for your teeth', 'case'], ['Is sugar harmful to your teeth?', 'paraphrase'], ['Is eating sugar bad for your teeth?', 'paraphrase']],
    miss: [['Is sugar good for your teeth?', 'polarity'], ['Is sugar bad for your liver?', 'entity']],
  },
  {
    cached: 'How do I delete my Facebook account?',
    hit: [['how do i delete my facebook account', 'case'], ['How can I delete my Facebook account?', 'paraphrase'], ['How do I permanently delete my Facebook account?', 'paraphrase']],
    miss: [['How do I delete my Instagram account?', 'entity'], ['How do I create a Facebook account?', 'polarity']],
  },
  {
    cached: 'What is the population of Tokyo?',
    hit: [['what is the population of tokyo', 'case'], ['How many people live in Tokyo?', 'paraphrase'], ["What's Tokyo's population?", 'paraphrase']],
    miss: [['What is the population of Osaka?', 'entity'], ['What is the area of Tokyo?', 'entity']],
  },
  {
    cached: 'How long does it take to cook a turkey?',
    hit: [['How long does it take to cook a turkey', 'punctuation'], ['How long should I cook a turkey?', 'paraphrase'], ['How much time does it take to cook a turkey?', 'paraphrase']],
    miss: [['How long does it take to cook a chicken?', 'entity'], ['How long does it take to thaw a turkey?', 'entity']],
  },
  {
    cached: 'What is the melting point of gold?',
    hit: [["what's the melting point of gold", 'paraphrase'], ['At what temperature does gold melt?', 'paraphrase'], ['what is the melting point of gold?', 'case']],
    miss: [['What is the melting point of silver?', 'entity'], ['What is the boiling point of gold?', 'entity']],
  },
  {
    cached: 'Can rabbits eat carrots?',
    hit: [['can rabbits eat carrots', 'case'], ['Can a rabbit eat carrots?', 'paraphrase'], ['Is it okay for rabbits to eat carrots?', 'paraphrase']],
    miss: [['Can rabbits eat chocolate?', 'entity'], ['Can hamsters eat carrots?', 'entity']],
  },
  {
    cached: 'What was the unemployment rate in 2019?',
    hit: [['What was the unemployment rate in 2019', 'punctuation'], ['What was the 2019 unemployment rate?', 'paraphrase'], ['How high was unemployment in 2019?', 'paraphrase']],
    miss: [['What was the unemployment rate in 2009?', 'date'], ['What was the inflation rate in 2019?', 'entity']],
  },
  {
    cached: 'How do I convert a PDF to a Word document?',
    hit: [['how do i convert a pdf to a word document', 'case'], ['How can I turn a PDF into a Word document?', 'paraphrase'], ['How do I convert a PDF file to Word?', 'paraphrase']],
    miss: [['How do I convert a Word document to a PDF?', 'reversal'], ['How do I convert a PDF to an Excel spreadsheet?', 'entity']],
  },
  {
    cached: 'What are the side effects of melatonin?',
    hit: [['what are the side effects of melatonin?', 'case'], ['What side effects does melatonin have?', 'paraphrase'], ['What are the side effects of taking melatonin?', 'paraphrase']],
    miss: [['What are the side effects of caffeine?', 'entity'], ['What are the benefits of melatonin?', 'polarity']],
  },
  {
    cached: 'Who painted the Mona Lisa?',
    hit: [['who painted the mona lisa', 'case'], ['Who was the painter of the Mona Lisa?', 'paraphrase'], ['Which artist painted the Mona Lisa?', 'paraphrase']],
    miss: [['Who painted The Starry Night?', 'entity'], ['Who stole the Mona Lisa?', 'entity']],
  },
  {
    cached: 'How hot is the surface of the Sun?',
    hit: [['How hot is the surface of the Sun', 'punctuation'], ['What is the temperature of the surface of the sun?', 'paraphrase'], ["How hot is the sun's surface?", 'paraphrase']],
    miss: [['How hot is the core of the Sun?', 'entity'], ['How hot is the surface of Venus?', 'entity']],
  },
  {
    cached: 'What should I wear to a job interview?',
    hit: [['what should i wear to a job interview', 'case'], ['What should I wear for a job interview?', 'paraphrase'], ['What is appropriate to wear to a job interview?', 'paraphrase']],
    miss: [['What should I wear to a wedding?', 'entity'], ['What should I bring to a job interview?', 'entity']],
  },
  {
    cached: 'Is it safe to swim after eating?',
    hit: [['is it safe to swim after eating', 'case'], ['Is swimming after eating safe?', 'paraphrase'], ['Is it okay to swim right after eating?', 'paraphrase']],
    miss: [['Is it safe to swim before eating?', 'date'], ['Is it safe to run after eating?', 'entity']],
  },
  {
    cached: 'How much protein is in an egg?',
    hit: [['HOW MUCH PROTEIN IS IN AN EGG?', 'case'], ['How much protein does an egg have?', 'paraphrase'], ['How many grams of protein are in an egg?', 'paraphrase']],
    miss: [['How much fat is in an egg?', 'entity'], ['How much protein is in a steak?', 'entity']],
  },
  {
    cached: 'What is the best smartphone under $300?',
    hit: [['what is the best smartphone under $300', 'case'], ['Which smartphone is the best for under $300?', 'paraphrase']],
    miss: [['What is the best smartphone under $700?', 'number'], ['What is the best tablet under $300?', 'entity']],
  },
  {
    cached: 'Why do cats purr?',
    hit: [['why do cats purr', 'case'], ['Why do cats purr ?', 'punctuation'], ['Why does a cat purr?', 'paraphrase'], ['What makes cats purr?', 'paraphrase']],
    miss: [['Why do cats hiss?', 'entity'], ['Why do dogs purr?', 'entity']],
  },
  {
    cached: 'Should I lease or buy a car?',
    hit: [['should i lease or buy a car?', 'case'], ['Is it better to lease or buy a car?', 'paraphrase'], ['Should I buy or lease a car?', 'paraphrase']],
    miss: [['Should I lease or buy a truck?', 'entity'], ['Should I sell or keep my car?', 'entity']],
  },
  {
    cached: 'What is the drinking age in Germany?',
    hit: [['what is the drinking age in germany', 'case'], ["What's the legal drinking age in Germany?", 'paraphrase']],
    miss: [['What is the drinking age in Canada?', 'entity'], ['What is the driving age in Germany?', 'entity']],
  },
  {
    cached: 'How do you say good morning in French?',
    hit: [['how do you say good morning in french', 'case'], ['How do you say "good morning" in French?', 'punctuation'], ['How to say good morning in French?', 'paraphrase']],
    miss: [['How do you say good morning in Italian?', 'entity'], ['How do you say good night in French?', 'entity']],
  },
  {
    cached: 'What is 20 percent of 150?',
    hit: [['what is 20 percent of 150', 'case'], ['What is 20% of 150?', 'paraphrase'], ["What's 20 percent of 150?", 'paraphrase']],
    miss: [['What is 25 percent of 150?', 'number'], ['What is 150 percent of 20?', 'reversal']],
  },
  {
    cached: 'How do I get rid of fruit flies in my kitchen?',
    hit: [['How do I get rid of fruit flies in my kitchen', 'punctuation'], ['How can I get rid of fruit flies in my kitchen?', 'paraphrase'], ['How do I get rid of the fruit flies in my kitchen?', 'paraphrase']],
    miss: [['How do I get rid of cockroaches in my kitchen?', 'entity'], ['How do I get rid of fruit flies in my bathroom?', 'entity']],
  },
  {
    cached: 'Who won the 2016 US presidential election?',
    hit: [['who won the 2016 us presidential election', 'case'], ['Who won the US presidential election in 2016?', 'paraphrase'], ['Which candidate won the 2016 US presidential election?', 'paraphrase']],
    miss: [['Who won the 2012 US presidential election?', 'date'], ['Who lost the 2016 US presidential election?', 'polarity']],
  },
  {
    cached: 'Is it cheaper to buy groceries on a Wednesday?',
    hit: [['is it cheaper to buy groceries on a wednesday', 'case'], ['Is it cheaper to buy groceries on Wednesdays?', 'paraphrase'], ['Are groceries cheaper on a Wednesday?', 'paraphrase']],
    miss: [['Is it cheaper to buy groceries on a Sunday?', 'date'], ['Is it more expensive to buy groceries on a Wednesday?', 'polarity']],
  },
  {
    cached: 'Can I drink milk after taking antibiotics?',
    hit: [['can i drink milk after taking antibiotics', 'case'], ['Is it okay to drink milk after taking antibiotics?', 'paraphrase'], ['Can I drink milk after taking antibiotics??', 'punctuation']],
    miss: [['Can I drink alcohol after taking antibiotics?', 'entity'], ['Can I drink milk before taking antibiotics?', 'date']],
  },
  {
    cached: 'What is the difference between weather and climate?',
    hit: [['what is the difference between weather and climate', 'case'], ["What's the difference between weather and climate?", 'paraphrase'], ['How is weather different from climate?', 'paraphrase']],
    miss: [['What is the difference between weather and season?', 'entity'], ['What is the difference between climate and biome?', 'entity']],
  },
  {
    cached: 'Which plants are safe for dogs?',
    hit: [['which plants are safe for dogs', 'case'], ['What plants are safe for dogs?', 'paraphrase'], ['Which plants are safe to have around dogs?', 'paraphrase']],
    miss: [['Which plants are not safe for dogs?', 'negation'], ['Which plants are safe for parrots?', 'entity']],
  },
  {
    cached: 'Do I need a passport to travel to Canada?',
    hit: [['do i need a passport to travel to canada', 'case'], ['Do I need a passport to go to Canada?', 'paraphrase'], ['Is a passport required to travel to Canada?', 'paraphrase']],
    miss: [['Do I need a passport to travel to Ireland?', 'entity'], ["Why don't I need a passport to travel to Canada?", 'negation']],
  },
  {
    cached: 'Is German harder to learn than English?',
    hit: [['is german harder to learn than english', 'case'], ['Is German more difficult to learn than English?', 'paraphrase']],
    miss: [['Is English harder to learn than German?', 'reversal'], ['Is German harder to learn than Dutch?', 'entity']],
  },
  {
    cached: 'Can you microwave a plastic container?',
    hit: [['can you microwave a plastic container', 'case'], ['Can a plastic container be microwaved?', 'paraphrase'], ['Is it safe to microwave a plastic container?', 'paraphrase']],
    miss: [["Why can't you microwave a plastic container?", 'negation'], ['Can you microwave a metal container?', 'entity']],
  },
  {
    cached: 'What is the average salary of a nurse in Florida?',
    hit: [['what is the average salary of a nurse in florida', 'case'], ["What's the average nurse salary in Florida?", 'paraphrase'], ['How much does a nurse earn on average in Florida?', 'paraphrase']],
    miss: [['What is the average salary of a nurse in Ohio?', 'entity'], ['What is the average salary of a teacher in Florida?', 'entity']],
  },
  {
    cached: 'How many hours are in a week?',
    hit: [['how many hours are in a week', 'case'], ['How many hours are there in a week?', 'paraphrase'], ['How many hours does a week have?', 'paraphrase']],
    miss: [['How many minutes are in a week?', 'unit'], ['How many hours are in a month?', 'unit']],
  },
  {
    cached: 'How do I fix a leaking faucet?',
    hit: [['HOW DO I FIX A LEAKING FAUCET', 'case'], ['How can I repair a leaky faucet?', 'paraphrase'], ["What's the best way to fix a leaking faucet?", 'paraphrase']],
    miss: [['How do I fix a leaking toilet?', 'entity'], ['How do I install a faucet?', 'entity']],
  },
  {
    cached: 'Will it snow in Denver this weekend?',
    hit: [['will it snow in denver this weekend', 'case'], ['Is it going to snow in Denver this weekend?', 'paraphrase']],
    miss: [['Will it snow in Denver next week?', 'date'], ['Will it snow in Boston this weekend?', 'entity']],
  },
  {
    cached: 'How do I send money from Wise to my Revolut account?',
    hit: [['how do i send money from wise to my revolut account', 'case'], ['How can I transfer money from Wise to my Revolut account?', 'paraphrase']],
    miss: [['How do I send money from my Revolut account to Wise?', 'reversal'], ['How do I send money from Wise to my Monzo account?', 'entity']],
  },
  {
    cached: 'What is the exchange rate from euros to dollars?',
    hit: [['what is the exchange rate from euros to dollars', 'case'], ["What's the euro to dollar exchange rate?", 'paraphrase']],
    miss: [['What is the exchange rate from dollars to euros?', 'reversal'], ['What is the exchange rate from euros to pounds?', 'entity']],
  },
  {
    cached: 'Which is bigger, Jupiter or Saturn?',
    hit: [['which is bigger, jupiter or saturn', 'case'], ['Which is larger, Jupiter or Saturn?', 'paraphrase'], ['Is Jupiter bigger than Saturn?', 'paraphrase']],
    miss: [['Which is bigger, Jupiter or Neptune?', 'entity'], ['Which is smaller, Jupiter or Saturn?', 'polarity']],
  },
  {
    cached: 'How do I stop my dog from barking at night?',
    hit: [['how do i stop my dog from barking at night', 'case'], ['How can I stop my dog from barking at night?', 'paraphrase'], ['How do I get my dog to stop barking at night?', 'paraphrase']],
    miss: [['How do I stop my dog from barking during the day?', 'date'], ['How do I stop my cat from meowing at night?', 'entity']],
  },
  {
    cached: 'Is it legal to drive barefoot in the UK?',
    hit: [['is it legal to drive barefoot in the uk', 'case'], ['Is driving barefoot legal in the UK?', 'paraphrase']],
    miss: [['Is it illegal to drive barefoot in the UK?', 'polarity'], ['Is it legal to drive barefoot in Australia?', 'entity']],
  },
  {
    cached: 'How many grams of sugar are in a can of Coke?',
    hit: [['how many grams of sugar are in a can of coke', 'case'], ['How much sugar is in a can of Coke?', 'paraphrase']],
    miss: [['How many grams of sugar are in a bottle of Coke?', 'unit'], ['How many grams of caffeine are in a can of Coke?', 'entity']],
  },
  {
    cached: 'What time does the sun set in March?',
    hit: [['what time does the sun set in march', 'case'], ['When does the sun set in March?', 'paraphrase']],
    miss: [['What time does the sun set in October?', 'date'], ['What time does the sun rise in March?', 'polarity']],
  },
  {
    cached: 'Can I use my phone abroad without roaming charges?',
    hit: [['can i use my phone abroad without roaming charges', 'case'], ['Can I use my phone overseas without roaming charges?', 'paraphrase']],
    miss: [['Can I use my phone abroad with roaming charges?', 'negation'], ['Can I use my laptop abroad without roaming charges?', 'entity']],
  },
  {
    cached: 'Does vitamin C help with colds?',
    hit: [['does vitamin c help with colds', 'case'], ['Does vitamin C help fight colds?', 'paraphrase'], ['Can vitamin C help with a cold?', 'paraphrase']],
    miss: [['Does vitamin C help with acne?', 'entity'], ["Why doesn't vitamin C help with colds?", 'negation']],
  },
  {
    cached: 'How long does a passport renewal take?',
    hit: [['how long does a passport renewal take', 'case'], ['How long does it take to renew a passport?', 'paraphrase']],
    miss: [['How long does a driver license renewal take?', 'entity'], ['How much does a passport renewal cost?', 'entity']],
  },
];

/** Flat cases: {cached, query, expect: 'hit' | 'miss', kind}. */
export function devProbeCases() {
  return flattenProbes(DEV_PROBES);
}
