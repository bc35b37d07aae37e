Feature: Corrections, retractions, and what was known on a day
  Everything recorded can be corrected, and the correction is itself an
  event: the old value stays in the history with who changed it and why.
  Nothing is erased and nothing is re-graded behind anyone's back.

  Evidence is named by the ids the incident page shows: strikes k1, k2…,
  competing claims c1…, assessments a1…, findings f1…. Sources are withdrawn,
  not retracted (see the workflow).

  Scenario: A mistyped date is amended; the old value stays in the history
    Given an incident alleging a strike by Coalition
    When its date is amended to 2017-03-21 because "typed 2017-03-17 for the 21st"
    Then its date is 2017-03-21
    And the last history line reads "amended date 2017-03-17 → 2017-03-21"
    And its history reads "Reported, Amended"
    And as it stood before the amendment its date was 2017-03-17

  Scenario Outline: Amendments that change nothing, or contradict themselves, are refused
    Given an incident alleging a strike by Coalition
    When someone amends <amendment>
    Then it is refused because "<because>"
    And nothing was recorded

    Examples:
      | amendment                         | because                                 |
      | its date to 2017-03-17            | nothing to amend                        |
      | its belligerents to Coalition     | nothing to amend                        |
      | its last day to 2017-03-10        | is before the incident's first day      |
      | its place to Mosul                | nothing to amend                        |

  Scenario: Amended belligerents replace the list, and the grading follows them
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    When its belligerents are amended to Coalition and Russia because "both flew that day"
    And the rulebook grades it
    Then the grade is contested by rule CONTESTED

  Scenario Outline: Retracting evidence under a recorded grade flags it for re-grading only when the rulebook would now decide otherwise
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: <strike>
    And a competing claim: <claim>
    And the incident is graded
    When <item> is retracted because "recorded in error"
    Then the grade is still <grade>
    And re-grading is <due>
    And <item> is shown as retracted

    Examples:
      | strike                | claim  | grade     | item | due                              |
      | declared by Coalition | Russia | contested | c1   | due: the rulebook now says fair  |
      | declared by Coalition | none   | fair      | k1   | due: the rulebook now says weak  |
      | likely by Coalition   | Russia | contested | k1   | not due                          |

  Scenario Outline: Which recorded grades wait for re-grading after a change
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    And the incident is <recorded>
    When <change>
    Then re-grading is <due>

    Examples:
      | recorded                                 | change                                          | due                             |
      | graded                                   | k1 is retracted because "not that strike"       | due: the rulebook now says weak |
      | overridden to weak because "thin"        | k1 is retracted because "not that strike"       | due: the rulebook now says weak |
      | overridden to weak because "thin"        | a note is added                                 | not due                         |
      | given the imported grade fair            | k1 is retracted because "not that strike"       | due: the rulebook now says weak |
      | graded                                   | a note is added                                 | not due                         |
      | graded                                   | a source rated B2 is added                      | not due                         |

  Scenario: Re-grading the incidents that wait for it takes the rulebook's grade and clears the flag
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    And a competing claim: Russia
    And the incident is graded
    When c1 is retracted because "recorded against the wrong incident"
    Then the queue lists the incident as waiting for re-grading
    When the incidents that wait for re-grading are re-graded
    Then the grade is fair by rule FAIR
    And re-grading is not due
    And its history reads "Reported, SourceAdded, SourceAdded, Corroborated, StrikeConfirmed, AttributionContested, Graded, Retracted, RegradeDue, Graded"

  Scenario: A grade the evidence agrees with again no longer waits
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    And the incident is graded
    When its belligerents are amended to Russia because "misread the report"
    Then re-grading is due: the rulebook now says weak
    When its belligerents are amended to Coalition because "the report was right after all"
    Then re-grading is not due
    And the grade is fair by rule FAIR

  Scenario: A duplicate mark is taken back
    Given another incident CS2 alleging a strike by Coalition
    And an incident alleging a strike by Coalition
    And the incident is marked a duplicate of CS2
    Then CS2 lists the incident among its duplicates
    When someone tries to add a note
    Then it is refused because "is marked a duplicate of CS2"
    When the duplicate mark is taken back because "a different strike the same morning"
    Then the incident is no longer a duplicate
    And CS2 lists no duplicates
    And its history reads "Reported, MarkedDuplicate, DuplicateUndone"

  Scenario Outline: What the rulebook would have said on a day, from what had been published by then
    A monitoring group's warning, a wire report a week later, and the
    belligerent's strike report after that: each counts from the day it was
    published, however late it was recorded here.

    Given an incident alleging a strike by Coalition
    And a source rated C3 published on 2017-03-18
    And a source rated B2 published on 2017-03-25
    And a strike declared by Coalition, reported on 2017-03-28
    Then known on <day> the rulebook would have graded it <grade>

    Examples:
      | day        | grade                        |
      | 2017-03-17 | nothing: no source was known |
      | 2017-03-20 | weak by rule WEAK            |
      | 2017-03-26 | weak by rule WEAK            |
      | 2017-03-28 | fair by rule FAIR            |

  Scenario Outline: The second source's publication day lifts the grade
    The strike report came first; the second independent source a week later.

    Given an incident alleging a strike by Coalition
    And a strike declared by Coalition, reported on 2017-03-15
    And a source rated C3 published on 2017-03-18
    And a source rated B2 published on 2017-03-25
    Then known on <day> the rulebook would have graded it <grade>

    Examples:
      | day        | grade             |
      | 2017-03-24 | weak by rule WEAK |
      | 2017-03-25 | fair by rule FAIR |

  Scenario: Retracted evidence does not count on any day
    Given an incident alleging a strike by Coalition
    And a source rated C3 published on 2017-03-18
    And a source rated B2 published on 2017-03-25
    And a strike declared by Coalition, reported on 2017-03-28
    When k1 is retracted because "the report was about another strike"
    Then known on 2017-03-30 the rulebook would have graded it weak by rule WEAK
