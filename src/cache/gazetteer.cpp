#include "cache/gazetteer.h"

#include <string>
#include <unordered_map>

namespace semcache {
namespace {

// One string per kind: entities separated by ',', the forms of one entity by '|'. Words that
// are mostly something else ("turkey", "polish", "go", "word", "apple", "fly", "second",
// "orange" (a fruit and a colour), "water", "excel") are left out; "US" is matched by the caller, which sees case.
constexpr std::string_view kKinds[kEntityKinds] = {
    // 1. places, their people and languages
    "usa|america|american|americans|united states,uk|britain|british|england|english|united kingdom,"
    "canada|canadian|canadians,mexico|mexican|mexicans,brazil|brazilian|brazilians,argentina|argentinian|argentine,"
    "chile|chilean,peru|peruvian,colombia|colombian,venezuela|venezuelan,cuba|cuban,jamaica|jamaican,"
    "france|french,germany|german|germans,italy|italian|italians,spain|spanish,portugal|portuguese,"
    "netherlands|dutch|holland,belgium|belgian,switzerland|swiss,austria|austrian,ireland|irish,scotland|scottish,"
    "wales|welsh,sweden|swedish,norway|norwegian,denmark|danish,finland|finnish,iceland|icelandic,poland,"
    "greece|greek,russia|russian|russians,ukraine|ukrainian,hungary|hungarian,czech|czechia,romania|romanian,"
    "bulgaria|bulgarian,serbia|serbian,croatia|croatian,israel|israeli|hebrew,egypt|egyptian,iran|iranian|persian,"
    "iraq|iraqi,syria|syrian,saudi arabia|saudi,pakistan|pakistani|urdu,india|indian|indians|hindi,"
    "bangladesh|bangladeshi|bengali,nepal|nepali,sri lanka|sri lankan,china|chinese|mandarin|cantonese,"
    "japan|japanese,korea|korean|koreans,vietnam|vietnamese,thailand|thai,indonesia|indonesian,malaysia|malaysian,"
    "singapore,philippines|filipino,australia|australian|australians,new zealand,nigeria|nigerian,kenya|kenyan,"
    "south africa,ethiopia,morocco|moroccan,qatar,uae|emirates,arabic|arab|arabs,latin,swahili,tamil,telugu,"
    "punjabi,marathi,gujarati,kannada,malayalam,"
    "california|californian,texas,florida,ohio,new york|nyc,oregon,nevada,arizona,colorado,georgia,virginia,"
    "michigan,illinois,massachusetts,alaska,hawaii,utah,kentucky,tennessee,minnesota,wisconsin,pennsylvania,"
    "new jersey,north carolina,south carolina,"
    "tokyo,osaka,kyoto,london,paris,berlin,munich,rome,milan,madrid,barcelona,moscow,beijing,shanghai,delhi,"
    "mumbai|bombay,bangalore|bengaluru,chennai,hyderabad,kolkata,pune,sydney,melbourne,toronto,vancouver,"
    "montreal,chicago,boston,seattle,denver,austin,dallas,houston,miami,atlanta,los angeles,san francisco,"
    "las vegas,new orleans,hong kong,dublin,amsterdam,vienna,prague,istanbul,cairo,dubai,seoul,bangkok,"
    "europe|european|europeans,asia|asian|asians,africa|african|africans,antarctica",
    // 2. software, platforms and companies
    "python,java,javascript|js,typescript,php,ruby,perl,swift,kotlin,scala,haskell,rust,golang,matlab,"
    "sql|mysql,html,css,android,ios,iphone,ipad,windows,linux,ubuntu,mac|macbook|macos,chrome,firefox,"
    "google,facebook|fb,instagram,twitter,whatsapp,snapchat,youtube,linkedin,quora,reddit,tiktok,amazon,"
    "microsoft,netflix,uber,paypal,venmo,revolut,monzo,zelle,stripe,tesla,samsung,xiaomi|redmi,oneplus,"
    "nokia,motorola,sony,dell,lenovo,asus,acer,gmail,yahoo,outlook,powerpoint,photoshop,tinder,"
    "jio,airtel,vodafone,flipkart,snapdeal,paytm",
    // 3. the solar system
    "sun|solar,moon|lunar,earth,mars|martian,venus,jupiter,saturn,mercury,neptune,uranus,pluto",
    // 4. units and currencies
    "minute|minutes,hour|hours,day|days,week|weeks,month|months,year|years,decade|decades,century|centuries,"
    "inch|inches,foot|feet,yard|yards,mile|miles,meter|meters|metre|metres,kilometer|kilometers|kilometre|"
    "kilometres|km,centimeter|centimeters|cm,millimeter|millimeters|mm,gram|grams,kilogram|kilograms|kg|kgs,"
    "pound|pounds|lb|lbs,ounce|ounces|oz,ton|tons|tonne|tonnes,cup|cups,teaspoon|teaspoons|tsp,"
    "tablespoon|tablespoons|tbsp,gallon|gallons,liter|liters|litre|litres,quart|quarts,pint|pints,"
    "milliliter|milliliters|ml,celsius|centigrade,fahrenheit,kelvin,kilobyte|kilobytes|kb,megabyte|megabytes|mb,"
    "gigabyte|gigabytes|gb,terabyte|terabytes|tb,dollar|dollars|usd,euro|euros|eur,yen,rupee|rupees|inr,"
    "yuan|rmb,peso|pesos,bitcoin|bitcoins|btc,ethereum",
    // 5. animals
    "dog|dogs|puppy|puppies,cat|cats|kitten|kittens,rabbit|rabbits|bunny|bunnies,hamster|hamsters,"
    "guinea pig|guinea pigs,parrot|parrots,horse|horses,cow|cows,pig|pigs,sheep,goat|goats,snake|snakes,"
    "lizard|lizards,turtle|turtles,frog|frogs,mouse|mice,rat|rats,bear|bears,lion|lions,tiger|tigers,"
    "wolf|wolves,fox|foxes,deer,elephant|elephants,monkey|monkeys,shark|sharks,whale|whales,dolphin|dolphins,"
    "bee|bees,ant|ants,spider|spiders,mosquito|mosquitoes,cockroach|cockroaches|roaches,owl|owls,eagle|eagles,"
    "duck|ducks,penguin|penguins,giraffe|giraffes,zebra|zebras,camel|camels,squirrel|squirrels,"
    "ferret|ferrets,gerbil|gerbils",
    // 6. foods and drinks
    "banana|bananas,grape|grapes,strawberry|strawberries,blueberry|blueberries,cherry|cherries,mango|mangoes,"
    "pineapple|pineapples,watermelon|watermelons,avocado|avocados,tomato|tomatoes,potato|potatoes,"
    "carrot|carrots,onion|onions,garlic,broccoli,spinach,lettuce,cucumber|cucumbers,rice,pasta,bread,pizza,"
    "cheese,egg|eggs,milk,yogurt|yoghurt,butter,chocolate,sugar,honey,salt,coffee,tea,beer,wine,alcohol,vodka,"
    "whiskey|whisky,soda|coke|pepsi,juice,chicken,beef,pork,turkey,salmon,tuna,shrimp,peanut|peanuts,"
    "almond|almonds,oatmeal|oats,cereal,steak,bacon,ham,sausage|sausages",
    // 7. colours
    "red,blue,green,yellow,black,white,purple,pink,brown,grey|gray,violet",
};

std::unordered_map<std::string, EntityRef> build() {
  std::unordered_map<std::string, EntityRef> m;
  for (uint8_t k = 0; k < kEntityKinds; ++k) {
    std::string_view list = kKinds[k];
    uint16_t member = 0;
    size_t i = 0;
    while (i <= list.size()) {
      size_t end = std::min(list.find(',', i), list.size());
      std::string_view entity = list.substr(i, end - i);
      for (size_t j = 0; j <= entity.size();) {
        size_t e = std::min(entity.find('|', j), entity.size());
        m.emplace(std::string(entity.substr(j, e - j)), EntityRef{uint8_t(k + 1), member});
        j = e + 1;
      }
      ++member;
      i = end + 1;
    }
  }
  return m;
}

}  // namespace

std::optional<EntityRef> lookupEntity(std::string_view w) {
  static const std::unordered_map<std::string, EntityRef> table = build();
  auto it = table.find(std::string(w));
  if (it == table.end()) return std::nullopt;
  return it->second;
}

}  // namespace semcache
