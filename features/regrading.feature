Feature: Re-grading history under another rulebook version
  Before a team adopts a new methodology, an auditor re-grades the recorded
  history under it and sees which grades would change, from what to what and
  by which rule. Nothing is recorded.

  Rulebook v2 is an example of a stricter methodology. It changes two things
  from v1:
  - a credible source needs reliability A or B (C no longer suffices);
  - official and belligerent sources are not independent of the belligerent:
    together they count as one source.

  Sources are written as in the grading rules, with their kind where it
  matters ("A1 official"); others are media.

  Scenario Outline: Grades that rulebook v2 would change
    Given an incident alleging a strike by Coalition
    And sources <sources>
    And a strike: <strike>
    And the incident is graded by the rulebook in force
    When history is re-graded under rulebook v2
    Then the grade would change from <v1 grade> to <v2 grade> by rule <v2 rule>
    And nothing was recorded

    Examples:
      | sources                     | strike                | v1 grade | v2 grade | v2 rule |
      | B2, C3                      | declared by Coalition | fair     | weak     | WEAK    |
      | C1 (group a), B2 (group b)  | likely by Coalition   | fair     | weak     | WEAK    |
      | A1 official, B2 official    | declared by Coalition | fair     | weak     | WEAK    |
      | B1 belligerent, A2 official | declared by Coalition | fair     | weak     | WEAK    |

  Scenario Outline: Grades that rulebook v2 would keep
    Given an incident alleging a strike by Coalition
    And sources <sources>
    And a strike: <strike>
    And the incident is graded by the rulebook in force
    When history is re-graded under rulebook v2
    Then the grade would stay <v1 grade>
    And nothing was recorded

    Examples:
      | sources                | strike                | v1 grade  |
      | B2, A1                 | declared by Coalition | fair      |
      | B2, A1 official        | declared by Coalition | fair      |
      | C3, C3                 | none                  | weak      |
      | D4                     | declared by Coalition | weak      |

  Scenario: Rules above fairness do not depend on the sources' ratings
    Given an incident alleging a strike by Coalition
    And sources C3, C3
    And a strike: declared by Coalition
    And a competing claim: Russia
    And the incident is graded by the rulebook in force
    When history is re-graded under rulebook v2
    Then the grade would stay contested
