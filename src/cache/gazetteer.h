#pragma once
// Small lists of interchangeable entities: places (countries with their adjectives and
// languages, US states, large cities, continents), software and companies, bodies of the solar
// system, units and currencies, animals, foods and drinks, colours. "How do I learn Java" and
// "How do I learn Python" differ in one word that an encoder places close to the other; two prompts that
// each name an entity of one kind that the other does not name ask about different things.
// Adjectives and other forms of one entity ("france" / "french", "dog" / "puppies") share a
// member id. Lists are of lowercase words and two-word names ("new york").
#include <cstdint>
#include <optional>
#include <string_view>

namespace semcache {

struct EntityRef {
  uint8_t kind;     // which list, from 1
  uint16_t member;  // which entity within it
};

constexpr uint8_t kEntityKinds = 7;

// The entity a lowercase word (or "first second" pair) names, if any.
std::optional<EntityRef> lookupEntity(std::string_view lowerWord);

}  // namespace semcache
