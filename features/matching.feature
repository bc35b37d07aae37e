Feature: Matching belligerents' strike reports to incidents
  A belligerent's strike report confirms a likely strike near an incident when
  it was published by a belligerent alleged for the incident, its strike day is
  within a number of days of the incident's day (reports often come a day
  late, or date a night strike to the next day), and its place is within a
  radius of the incident's place (great-circle distance). A report or an
  incident that names only a town is placed through the gazetteer.

  Coordinates on the incident or the report win. Without them, a location is
  placed at the most specific gazetteer place named anywhere in it, as
  analysts write it ("Bakery, Tabqa (الطبقة)", "Tabqa, slaughterhouse", a
  village before its district), in Arabic or Latin script; the incident's
  country decides between towns of the same name. A place is its centre: a
  match says how each side was placed, and when both were placed at one
  town it says "same place" rather than a distance of 0 km; when one side is
  a town's centre, its distance carries the town's reach as its uncertainty.

  The best match comes first: the nearest, then the closest in time. Applying
  the matches records a "likely" strike with the report's reference, the
  distance, the day offset and the rule, as the acting person.

  In these scenarios the radius is 15 km and the window 1 day. The incident
  is reported by Coalition near Raqqa (35.95, 39.01) on 2017-03-20.

  Background:
    Given an incident near Raqqa on 2017-03-20 alleging Coalition

  Scenario Outline: Distance, day and belligerent decide a match
    Given a strike report "<report>" by <belligerent> on <day> at <place>
    When strike reports are matched within 15 km and 1 day
    Then the incident <outcome>

    Examples:
      | report | belligerent | day        | place           | outcome                    |
      | R1     | Coalition   | 2017-03-20 | 35.95, 39.01    | matches R1 at 0.0 km, +0 day |
      | R2     | Coalition   | 2017-03-20 | 36.05, 39.01    | matches R2 at 11.12 km, +0 day |
      | R3     | Coalition   | 2017-03-20 | 36.10, 39.01    | has no match               |
      | R4     | Coalition   | 2017-03-21 | 35.95, 39.01    | matches R4 at 0.0 km, +1 day |
      | R5     | Coalition   | 2017-03-19 | 35.95, 39.01    | matches R5 at 0.0 km, -1 day |
      | R6     | Coalition   | 2017-03-22 | 35.95, 39.01    | has no match               |
      | R7     | Russia      | 2017-03-20 | 35.95, 39.01    | has no match               |
      | R8     | Coalition   | 2017-03-20 | the town Raqqah | matches R8 at 0.0 km ± 6.5 km, +0 day |
      | R9     | Coalition   | 2017-03-20 | the town الرقة  | matches R9 at 0.0 km ± 6.5 km, +0 day |
      | R10    | Coalition   | 2017-03-20 | the town Atlantis | has no match             |

  Scenario: An incident that names only a town is placed through the gazetteer
    Given an incident CS2 in Tabqa on 2017-03-22 alleging Coalition, without coordinates
    And a strike report "T1" by Coalition on 2017-03-22 at 35.84, 38.56
    When strike reports are matched within 15 km and 1 day
    Then incident CS2 matches T1 at 0.9 km ± 2.6 km, +0 day

  Scenario Outline: A location is placed by the most specific place it names
    Given an incident CS3 at "<location>" in <country> on 2017-03-22 alleging Coalition
    When the incidents are placed for matching
    Then incident CS3 is <placed>

    Examples:
      | location                                   | country | placed                                      |
      | Bakery, Tabqa (الطبقة)                     | Syria   | at Tabqa, Syria, named by "Tabqa"           |
      | Carwash, Tabqa (الطبقة)                    | Syria   | at Tabqa, Syria, named by "Tabqa"           |
      | Tabqa, slaughterhouse                      | Syria   | at Tabqa, Syria, named by "Tabqa"           |
      | الطبقة                                     | Syria   | at Tabqa, Syria, named by "الطبقة"          |
      | Madinat ath Thawrah                        | Syria   | at Tabqa, Syria, named by "Madinat ath Thawrah" |
      | Al-Mohsenli, countryside of Manbij, Aleppo | Syria   | at Manbij, Syria, named by "Manbij"         |
      | Mosul al-Jadida, Mosul                     | Iraq    | at Mosul al-Jadida, Iraq, named by "Mosul al-Jadida" |
      | Sinjar                                     | Iraq    | at Sinjār, Iraq, named by "Sinjar"          |
      | Sinjar                                     | Syria   | at Sinjār, Syria, named by "Sinjar"         |
      | سنجار                                      | Iraq    | at Sinjār, Iraq, named by "سنجار"           |
      | Tripoli                                    | Syria   | not placed: it names no place the gazetteer knows in Syria |
      | Bakery near the river                      | Syria   | not placed: it names no place the gazetteer knows in Syria |

  Scenario: Our own gazetteer adds a village, and the built-in places stay
    Given our gazetteer file adds the village Al-Mohsenli (المحسنلي) at 36.55, 37.93
    And an incident CS3 at "Al-Mohsenli, countryside of Manbij, Aleppo" in Syria on 2017-03-22 alleging Coalition
    And an incident CS4 at "المحسنلي" in Syria on 2017-03-22 alleging Coalition
    And an incident CS5 at "Tabqa, slaughterhouse" in Syria on 2017-03-22 alleging Coalition
    When the incidents are placed for matching
    Then incident CS3 is at Al-Mohsenli, no country given, named by "Al-Mohsenli"
    And incident CS4 is at Al-Mohsenli, no country given, named by "المحسنلي"
    And incident CS5 is at Tabqa, Syria, named by "Tabqa"

  Scenario Outline: Incidents named as analysts name them match the coalition's "Near Tabqa" as the same place
    Given an incident <code> at "<location>" in Syria on 2017-03-22 alleging Coalition
    And a strike report "CJTF-OIR 2017-03-23" by Coalition on 2017-03-22 at the town Near Tabqa, two strikes
    When strike reports are matched within 15 km and 1 day, and applied
    Then incident <code> has a likely strike from report "CJTF-OIR 2017-03-23", its history saying "same place: Tabqa (gazetteer)"

    Examples:
      | code | location                |
      | CS3  | Bakery, Tabqa (الطبقة)  |
      | CS4  | Carwash, Tabqa (الطبقة) |
      | CS5  | Tabqa, slaughterhouse   |

  Scenario: A report placed only at a town keeps the town's reach as its uncertainty
    Given an incident CS3 at "Tabqa dam road" in Syria on 2017-03-22 alleging Coalition, at 35.87, 38.57 exactly
    And a strike report "CJTF-OIR 2017-03-23" by Coalition on 2017-03-22 at the town Tabqa
    When strike reports are matched within 15 km and 1 day, and applied
    Then incident CS3 has a likely strike from report "CJTF-OIR 2017-03-23", its history saying "3.79 km away (± 2.6 km), the report placed at Tabqa (gazetteer)"

  Scenario: Several candidates come best first
    Given a strike report "far" by Coalition on 2017-03-20 at 36.05, 39.01
    And a strike report "late" by Coalition on 2017-03-21 at 35.95, 39.01
    And a strike report "near" by Coalition on 2017-03-20 at 35.95, 39.01
    When strike reports are matched within 15 km and 1 day
    Then the candidates are near, late, far

  Scenario: Applying records the best match as a likely strike, once
    Given a strike report "far" by Coalition on 2017-03-20 at 36.05, 39.01
    And a strike report "near" by Coalition on 2017-03-20 at 35.95, 39.01
    When strike reports are matched within 15 km and 1 day, and applied
    Then the incident is strike-confirmed
    And its strike is likely, from report near, 0.0 km away, with the matching rule
    When strike reports are matched within 15 km and 1 day
    Then the incident has no match

  Scenario: Matching without applying records nothing
    Given a strike report "near" by Coalition on 2017-03-20 at 35.95, 39.01
    When strike reports are matched within 15 km and 1 day
    Then nothing was recorded
