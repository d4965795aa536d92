/*
 * names: the generated container names, "adjective_surname" like Docker's
 * (a name users can say out loud), from berth's own word lists: harbour
 * weather adjectives and navigators, explorers, astronomers and the
 * people who taught ships and machines to find their way.
 */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

static const char *const adjectives[] = {
    "agile",    "amber",    "ancient", "bold",      "brave",    "breezy",   "bright",   "brisk",
    "buoyant",  "calm",     "candid",  "careful",   "cheerful", "clever",   "cosmic",   "crisp",
    "curious",  "daring",   "deep",    "eager",     "earnest",  "fearless", "fervent",  "gallant",
    "gentle",   "gleaming", "golden",  "graceful",  "hardy",    "hearty",   "honest",   "humble",
    "jolly",    "keen",     "kind",    "lively",    "loyal",    "lucid",    "lucky",    "merry",
    "mighty",   "misty",    "modest",  "nimble",    "noble",    "patient",  "placid",   "plucky",
    "polished", "proud",    "quiet",   "radiant",   "rapid",    "resolute", "rugged",   "salty",
    "serene",   "sharp",    "shining", "silver",    "sleek",    "snug",     "spirited", "steady",
    "stoic",    "sturdy",   "sunny",   "swift",     "tidal",    "tidy",     "tranquil", "trusty",
    "upbeat",   "valiant",  "vivid",   "wandering", "wary",     "windy",    "wise",     "witty",
    "zealous",
};

static const char *const surnames[] = {
    "aldrin",    "amundsen",   "armstrong",    "ballard",        "barents",    "bartlett",
    "battuta",   "bering",     "bougainville", "bowditch",       "brahe",      "cabot",
    "cartier",   "champlain",  "cook",         "cousteau",       "curie",      "darwin",
    "drake",     "earle",      "eratosthenes", "fitzroy",        "galileo",    "gagarin",
    "halley",    "hamilton",   "harrison",     "henson",         "herschel",   "heyerdahl",
    "hillary",   "hipparchus", "hopper",       "hubble",         "hudson",     "humboldt",
    "jemison",   "johnson",    "kepler",       "laperouse",      "leavitt",    "lovelace",
    "magellan",  "maury",      "mawson",       "meitner",        "mercator",   "nansen",
    "noether",   "norgay",     "ortelius",     "peary",          "piccard",    "polo",
    "ptolemy",   "ride",       "sagan",        "scott",          "shackleton", "shannon",
    "sylvester", "tasman",     "tereshkova",   "turing",         "vancouver",  "vaughan",
    "vespucci",  "zheng",      "nordenskiold", "bellingshausen", "dampier",    "flinders",
    "frobisher", "gama",       "majid",        "kupe",           "erikson",    "pytheas",
    "quiros",    "ross",       "torres",       "wilkes",
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static unsigned pick(unsigned bound)
{
    unsigned value = 0;

    if (getrandom(&value, sizeof(value), 0) != sizeof(value))
        value = (unsigned)random();
    return value % bound;
}

void names_generate(char *out, size_t size, int attempt)
{
    const char *adjective = adjectives[pick(COUNT(adjectives))];
    const char *surname = surnames[pick(COUNT(surnames))];

    if (attempt > 0)
        snprintf(out, size, "%s_%s%u", adjective, surname, pick(10));
    else
        snprintf(out, size, "%s_%s", adjective, surname);
}
