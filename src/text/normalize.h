#pragma once
// A prompt's normalized form: what the cache embeds (and, later, matches exactly), so that
// rewordings that differ only in Unicode form, case or spacing are the same text. The prompt
// itself is kept as given for display and for the learned evaluator's signatures (which read
// capitalisation to find names).
//   1. Unicode NFKC (full-width letters, ligatures, compatibility forms -> their plain forms);
//   2. lower case, as JS String.prototype.toLowerCase (locale-independent);
//   3. every run of whitespace (JS \s) -> one ASCII space, none at either end;
//   4. punctuation that does not change a question: double quotes (" “ ” „ « ») anywhere, and
//      at the ends the sentence marks . ? ! , ; : (and ¿ ¡ in front), with the spaces around
//      them ("Why is the sky blue ?!" -> "why is the sky blue"). Inner punctuation, and symbols
//      such as + # $ % (C++, C#, $100), stay. A text made only of such marks keeps them.
// Idempotent: normalizePrompt(normalizePrompt(s)) == normalizePrompt(s). Invalid UTF-8 becomes
// U+FFFD first (see unicode.h).
#include <string>
#include <string_view>

namespace semcache::text {

std::string normalizePrompt(std::string_view text);

}  // namespace semcache::text
