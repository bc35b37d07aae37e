Feature: The review workflow
  An incident moves through review as evidence arrives:

    reported -> corroborated -> strike-confirmed -> graded <-> disputed

  Every step is recorded as an event naming who acted and when. A command
  that would break a rule is refused with a clear sentence and records
  nothing.

  Scenario: A new incident is reported
    Given an incident alleging a strike by Coalition
    Then the incident is reported
    And its history reads "Reported"

  Scenario: The second independent credible source corroborates the incident
    Given an incident alleging a strike by Coalition
    When a source rated B2 is added
    Then the incident is reported
    When a source rated C3 is added
    Then the incident is corroborated
    And corroboration named sources s1, s2
    And its history reads "Reported, SourceAdded, SourceAdded, Corroborated"

  Scenario Outline: Corroboration needs two credible sources from different groups
    Given an incident alleging a strike by Coalition
    And sources <sources>
    Then the incident is <state>

    Examples:
      | sources                    | state        |
      | B2 (group a), B2 (group a) | reported     |
      | B2, D4                     | reported     |
      | B2 (group a), C3 (group b) | corroborated |

  Scenario: Re-rating a source can complete corroboration
    Given an incident alleging a strike by Coalition
    And sources B2, D4
    When source s2 is re-rated C3
    Then the incident is corroborated
    And corroboration named sources s1, s2

  Scenario: Corroboration is recorded once
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    When a source rated A1 is added
    Then its history reads "Reported, SourceAdded, SourceAdded, Corroborated, SourceAdded"

  Scenario Outline: A recorded strike moves the incident to strike-confirmed
    Given an incident alleging a strike by Coalition
    And sources <sources>
    When a strike is recorded: likely by Coalition
    Then the incident is strike-confirmed

    Examples:
      | sources |
      | none    |
      | B2      |
      | B2, C3  |

  Scenario Outline: Grading is allowed from any earlier state
    Given an incident alleging a strike by Coalition
    And sources <sources>
    And a strike: <strike>
    When the incident is graded
    Then the incident is graded
    And the grade is <grade> by rule <rule>

    Examples:
      | sources | strike                | grade | rule |
      | C3      | none                  | weak  | WEAK |
      | B2, C3  | none                  | weak  | WEAK |
      | B2, C3  | declared by Coalition | fair  | FAIR |

  Scenario: New evidence allows re-grading a graded incident
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And the incident is graded
    When a strike is recorded: declared by Coalition
    And the incident is graded
    Then the grade is fair by rule FAIR
    And its history reads "Reported, SourceAdded, SourceAdded, Corroborated, Graded, StrikeConfirmed, RegradeDue, Graded"

  Scenario: A dispute on a graded incident can be dismissed
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    And the incident is graded
    When the grade is disputed by "Coalition" because "the building held fighters"
    Then the incident is disputed
    When the dispute is dismissed because "witnesses describe families"
    Then the incident is graded
    And the grade is fair by rule FAIR

  Scenario: An upheld dispute withdraws the grade until the incident is re-graded
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    And the incident is graded
    When the grade is disputed by "a researcher" because "the dead were fighters"
    And the dispute is upheld because "families named them as fighters"
    Then the incident is strike-confirmed
    And it has no grade
    When a finding is recorded: those killed were combatants
    And the incident is graded
    Then the grade is discounted by rule DISCOUNTED

  Scenario: A duplicate leaves the workflow and points to the original
    Given an incident alleging a strike by Coalition
    And another incident CS2 alleging a strike by Coalition
    When the incident is marked a duplicate of CS2
    Then the incident is a duplicate of CS2

  Scenario: Casualty estimates can be revised with a reason
    Given an incident alleging a strike by Coalition
    When the civilians killed are revised to 12-15 because "hospital records"
    Then the civilians killed are 12-15
    And its history reads "Reported, HarmEstimateRevised"

  Scenario: A revision keeps the figures it replaced in the history
    Given an incident alleging a strike by Coalition
    And the civilians killed were revised to 12-15 because "hospital records"
    When the civilians killed are revised to 20-25 because "a second hospital's list"
    Then the last history line reads "revised civilians killed from 12-15 to 20-25"

  Scenario Outline: Commands that would break a rule are refused and record nothing
    Given an incident alleging a strike by Coalition
    And the incident is <situation>
    When someone tries to <command>
    Then it is refused because "<because>"
    And nothing was recorded

    Examples:
      | situation                  | command                                 | because                      |
      | just reported              | grade it                                | has no source                |
      | just reported              | dispute the grade                       | has no grade to dispute      |
      | just reported              | resolve a dispute                       | no open dispute              |
      | graded                     | resolve a dispute                       | no open dispute              |
      | disputed                   | dispute the grade                       | already has a dispute open   |
      | disputed                   | grade it                                | resolve it before grading    |
      | disputed                   | override the grade                      | resolve it before grading    |
      | graded                     | grade it                                | nothing changed              |
      | just reported              | report it again                         | already exists               |
      | just reported              | mark it a duplicate of itself           | duplicate of itself          |
      | just reported              | record a strike by Russia               | alleges Coalition            |
      | just reported              | record an assessment by Russia          | alleges Coalition            |
      | graded                     | add the same source again               | already has this URL         |
      | graded                     | withdraw source s9                      | has no source s9             |
      | a duplicate                | add a source                            | marked a duplicate           |
      | a duplicate                | grade it                                | marked a duplicate           |
      | a duplicate                | mark it a duplicate of CS3              | marked a duplicate           |
      | just reported              | mark it a duplicate of a duplicate      | is itself a duplicate        |
      | just reported              | revise nothing                          | already has these casualty   |
