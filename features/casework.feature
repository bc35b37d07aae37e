Feature: Casework together: assignment, discussion and tags
  A team shares its work on incidents. An incident can be handed to one
  member at a time; members discuss it in comments that answer each other
  and mention colleagues by @name; tags group incidents across the queue.
  Each of these is recorded in the incident's own history, with who did it
  and when, like every other change. Comments are internal: the public
  history says a comment was made and withholds what it says.

  Each member's inbox lists the incidents assigned to them and the comments
  that mention them, newest first.

  Background:
    Given a team: amira and jonas are analysts, omar is a reporter, lina is an auditor
    And an incident alleging a strike by Coalition

  Scenario: An incident handed over, discussed and tagged, all in its history
    When amira assigns it to jonas
    And amira comments "@jonas the strike report puts it 2 km east"
    Then jonas's inbox holds "mentioned in m1 by amira, assigned by amira"
    When jonas answers m1 with "checked: it matches the report"
    And jonas tags it "needs-geolocation"
    Then jonas's inbox holds "mentioned in m1 by amira (answered), assigned by amira"
    And its history reads "Reported, Assigned, Commented, Commented, Tagged"
    And the queue of jonas lists it with the tag needs-geolocation

  Scenario: What the public history says of comments
    When amira comments "the family of the victims asked us not to publish their street"
    Then the public history reads "comment (internal; withheld)"
    And the public history does not say "their street"

  Scenario Outline: Who may do what
    When <member> tries to <change>
    Then <what happens>

    Examples:
      | member | change           | what happens                                                  |
      | omar   | comment          | it is recorded                                                |
      | omar   | assign it        | it is refused because "omar is a reporter and may not assign" |
      | lina   | comment          | it is refused because "lina is an auditor and may not comment" |
      | amira  | assign it to zoe | it is refused because "no member of the team is called zoe"   |
      | amira  | mention @jonsa   | it is refused because "did you mean jonas?"                   |

  Scenario Outline: Tags are compared the way people mean them
    When jonas tags it "<first>"
    And jonas tries to tag it "<second>"
    Then it is refused because "already has these tags"

    Examples:
      | first             | second            |
      | needs-geolocation | Needs Geolocation |
      | NEEDS_GEOLOCATION | needs geolocation |
      | تحقق ميداني       | تحقق-ميداني       |

  Scenario: Handing an incident to whoever has it already changes nothing
    When amira assigns it to jonas
    And amira tries to assign it to jonas
    Then it is refused because "already assigned to jonas"
    And nothing was recorded

  Scenario: Taken back, an incident leaves the inbox
    When amira assigns it to jonas
    And amira takes it back
    Then jonas's inbox is empty
