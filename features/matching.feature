Feature: Matching belligerents' strike reports to incidents
  A belligerent's strike report confirms a likely strike near an incident when
  it was published by a belligerent alleged for the incident, its strike day is
  within a number of days of the incident's day (reports often come a day
  late, or date a night strike to the next day), and its place is within a
  radius of the incident's place (great-circle distance). A report or an
  incident that names only a town is placed through the gazetteer.

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
      | R8     | Coalition   | 2017-03-20 | the town Raqqah | matches R8 at 0.0 km, +0 day |
      | R9     | Coalition   | 2017-03-20 | the town الرقة  | matches R9 at 0.0 km, +0 day |
      | R10    | Coalition   | 2017-03-20 | the town Atlantis | has no match             |

  Scenario: An incident that names only a town is placed through the gazetteer
    Given an incident CS2 in Tabqa on 2017-03-22 alleging Coalition, without coordinates
    And a strike report "T1" by Coalition on 2017-03-22 at 35.84, 38.56
    When strike reports are matched within 15 km and 1 day
    Then incident CS2 matches T1 at 0.9 km, +0 day

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
