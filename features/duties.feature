Feature: Separation of duties in a team
  In a team, no single person both proposes and approves the grades that
  weigh most in public: fair, confirmed and discounted. Whoever grades an
  incident only proposes such a grade; it takes effect when a different
  member approves it. Nobody resolves a dispute they opened.

  Each member of the team has one role, and a role allows only some changes:

    reporter  reports incidents, adds sources and notes
    analyst   also weighs evidence, grades, approves, disputes and resolves
    reviewer  also overrides the rulebook and imports archives
    auditor   reads everything and changes nothing

  Every refusal says why and records nothing. Without a team (one person
  working alone on a laptop) every grade takes effect at once.

  Background:
    Given a team: amira and badr are analysts, rana is a reviewer, omar is a reporter, lina is an auditor
    And an incident alleging a strike by Coalition
    And sources B2, C3

  Scenario Outline: The weightiest grades wait for a second person; the others take effect at once
    Given a strike: <strike>
    And an assessment by Coalition: <assessment>
    And a finding: <finding>
    When amira grades it
    Then <what happens>

    Examples:
      | strike                | assessment       | finding                      | what happens                           |
      | declared by Coalition | not_yet_assessed | none                         | grade fair is proposed by amira        |
      | declared by Coalition | credible         | none                         | grade confirmed is proposed by amira   |
      | declared by Coalition | non_credible     | those killed were combatants | grade discounted is proposed by amira  |
      | none                  | not_yet_assessed | none                         | the grade is weak by rule WEAK         |

  Scenario: A proposed grade waits in the queue and does not change the state
    Given a strike: declared by Coalition
    When amira grades it
    Then the incident is strike-confirmed
    And the queue says "grade fair proposed; needs a second person's approval"

  Scenario: A second person's approval lets the proposed grade take effect
    Given a strike: declared by Coalition
    And amira has graded it
    When badr approves the grade
    Then the grade is fair by rule FAIR
    And the grade was approved by badr
    And the incident is graded
    And its history ends "GradeProposed, Graded, GradeApproved"
    And its history says the grade took effect as proposed by amira and approved by badr

  Scenario: Nobody approves their own proposal
    Given a strike: declared by Coalition
    And amira has graded it
    When amira approves the grade
    Then it is refused because "amira proposed the grade of incident CS1; a different person must approve it"
    And nothing was recorded

  Scenario: A proposal the record no longer supports cannot be approved
    Given a strike: declared by Coalition
    And amira has graded it
    And source s2 has been withdrawn
    When badr approves the grade
    Then it is refused because "the rulebook now grades it weak by rule WEAK"
    And nothing was recorded

  Scenario: A reviewer's override of fair also needs a second person
    When rana overrides the grade to fair because "investigators visited the site"
    Then grade fair is proposed by rana
    When amira approves the grade
    Then the grade is fair by rule OVERRIDE
    And the grade was approved by amira

  Scenario: There is nothing to approve without a proposal
    When badr approves the grade
    Then it is refused because "incident CS1 has no proposed grade to approve"
    And nothing was recorded

  Scenario: Nobody resolves a dispute they opened
    Given a strike: declared by Coalition
    And amira has graded it
    And badr has approved the grade
    And amira has disputed the grade
    When amira resolves the dispute
    Then it is refused because "amira opened the dispute on incident CS1; a different person must resolve it"
    And nothing was recorded
    When badr resolves the dispute
    Then the incident is graded

  Scenario Outline: A role allows only some changes
    When <member> tries to <change>
    Then it is refused because "<member> is <role> and may not <what>"
    And nothing was recorded

    Examples:
      | member | change                  | role        | what                             |
      | omar   | grade it                | a reporter  | grade an incident                |
      | omar   | record a strike         | a reporter  | record strikes, claims, assessments, discount findings or casualty figures |
      | omar   | approve the grade       | a reporter  | approve a proposed grade         |
      | amira  | override the grade      | an analyst  | override the rulebook's grade    |
      | lina   | add a source            | an auditor  | add a source                     |
      | lina   | add a note              | an auditor  | add a note                       |
      | lina   | grade it                | an auditor  | grade an incident                |

  Scenario: Someone outside the team changes nothing
    When zoe tries to add a note
    Then it is refused because "zoe is not a member of this team"
    And nothing was recorded

  Scenario: A team may turn separation of duties off
    Given separation of duties is turned off
    And a strike: declared by Coalition
    When amira grades it
    Then the grade is fair by rule FAIR
