Feature: Grading incidents by rulebook v1
  An incident's grade says how well the allegation of civilian harm is
  supported. The rulebook weighs the sources attached to the incident, any
  strike recorded near the place on the day, competing claims of
  responsibility, the belligerent's own assessment and findings that discount
  the harm. Each grade records the rule that produced it.

  How to read the tables:
  - A source is written as its Admiralty rating (reliability A-F, then
    credibility 1-6), for example "B2". "(group a)" puts it in group a:
    sources in one group (a repost, a wire copy, a translation of one
    original) count once. "unrated" is a source with no rating (F6).
    "withdrawn" marks a source that no longer counts.
  - A source is credible when its reliability is A, B or C and its
    credibility 1, 2 or 3.
  - "none" means nothing of that kind has been recorded.

  Precedence when several rules apply:
  confirmed > discounted > contested > fair > weak.

  Scenario Outline: A source is credible only at reliability A-C and credibility 1-3
    Given an incident alleging a strike by Coalition
    And sources <first>, B2 (group other)
    And a strike: declared by Coalition
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | first   | grade | rule |
      | A1      | fair  | FAIR |
      | B2      | fair  | FAIR |
      | C3      | fair  | FAIR |
      | A4      | weak  | WEAK |
      | C4      | weak  | WEAK |
      | D1      | weak  | WEAK |
      | D3      | weak  | WEAK |
      | E2      | weak  | WEAK |
      | F6      | weak  | WEAK |
      | unrated | weak  | WEAK |

  Scenario Outline: Sources in the same group count once
    Given an incident alleging a strike by Coalition
    And sources <sources>
    And a strike: declared by Coalition
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>
    And the grade relied on sources <evidence>

    Examples:
      | sources                                  | grade | rule | evidence       |
      | B2, B2                                   | fair  | FAIR | s1, s2         |
      | B2 (group a), B2 (group b)               | fair  | FAIR | s1, s2         |
      | B2 (group a), B2 (group a)               | weak  | WEAK | s1, s2         |
      | B2 (group a), C3 (group a), B2           | fair  | FAIR | s1, s3         |
      | B2 (group a), D4 (group b)               | weak  | WEAK | s1, s2         |
      | D4 (group a), B2 (group a), C3 (group b) | fair  | FAIR | s2, s3         |
      | B2, B2 withdrawn                         | weak  | WEAK | s1             |

  Scenario Outline: Fair needs a declared or likely strike by an alleged belligerent
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: <strike>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | strike                        | grade | rule |
      | declared by Coalition         | fair  | FAIR |
      | likely by Coalition           | fair  | FAIR |
      | none                          | weak  | WEAK |

  Scenario: A strike by the party of a competing claim does not make an incident fair
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a competing claim: Russia
    And a strike: declared by Russia
    When the rulebook grades it
    Then the grade is contested by rule CONTESTED

  Scenario Outline: Competing claims of responsibility make an incident contested
    Given an incident alleging a strike by <alleged>
    And sources <sources>
    And a strike: <strike>
    And a competing claim: <claim>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | alleged             | sources | strike                | claim                  | grade     | rule      |
      | Coalition           | B2, C3  | declared by Coalition | none                   | fair      | FAIR      |
      | Coalition           | B2, C3  | declared by Coalition | Iraqi ground forces    | contested | CONTESTED |
      | Coalition and Russia | B2, C3 | declared by Coalition | none                   | contested | CONTESTED |
      | Coalition           | F6      | none                  | Syrian regime          | contested | CONTESTED |

  Scenario Outline: A competing claim counts by the parties it names
    Archives list the parties that contest an incident among the alleged
    ones. A claim naming a party already alleged adds no party of its own:
    an incident is contested when more than one party is held responsible.

    Given an incident alleging a strike by <alleged>
    And sources B2, C3
    And a strike: declared by Coalition
    And a competing claim: <claim>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | alleged              | claim     | grade     | rule      |
      | Coalition            | Coalition | fair      | FAIR      |
      | Coalition            | coalition | fair      | FAIR      |
      | Coalition and Russia | Russia    | contested | CONTESTED |
      | Coalition            | Russia    | contested | CONTESTED |

  Scenario Outline: Party names compare the way people mean them
    Case, spacing and invisible characters pasted from web pages (a zero
    width space, written here as <ZWSP>) do not make another party; what
    was typed is still recorded as typed.

    Given an incident alleging a strike by US-led Coalition
    And sources B2, C3
    And a strike: declared by <strike by>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | strike by                | grade | rule |
      | US-led Coalition         | fair  | FAIR |
      | us-led coalition         | fair  | FAIR |
      | US-LED   COALITION       | fair  | FAIR |
      | US<ZWSP>-led Coalition   | fair  | FAIR |

  Scenario: A party's alias is the party
    Given the party US-led Coalition is also known as CJTF-OIR
    And an incident alleging a strike by US-led Coalition
    And sources B2, C3
    And a strike: declared by CJTF-OIR
    When the rulebook grades it
    Then the grade is fair by rule FAIR
    And the grade relied on sources s1, s2 and a declared strike by US-led Coalition

  Scenario Outline: An incident whose belligerent is unknown is graded, never fair
    Given an incident naming no belligerent
    And sources <sources>
    And a competing claim: <claim>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | sources | claim     | grade     | rule      |
      | B2, C3  | none      | weak      | WEAK      |
      | B2      | Coalition | weak      | WEAK      |

  Scenario Outline: A belligerent that accepts responsibility confirms the harm
    Given an incident alleging a strike by Coalition
    And sources <sources>
    And an assessment by Coalition: <outcome>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | sources | outcome          | grade     | rule      |
      | F6      | credible         | confirmed | CONFIRMED |
      | B2, C3  | credible         | confirmed | CONFIRMED |
      | B2      | non_credible     | weak      | WEAK      |
      | B2      | duplicate        | weak      | WEAK      |
      | B2      | not_yet_assessed | weak      | WEAK      |

  Scenario: The belligerent's latest assessment is the one that counts
    Given an incident alleging a strike by Coalition
    And sources B2
    And an assessment by Coalition: credible
    And an assessment by Coalition: non_credible
    When the rulebook grades it
    Then the grade is weak by rule WEAK

  Scenario Outline: Combatants killed, or another party responsible, discount the harm
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    And a finding: <finding>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | finding                          | grade      | rule       |
      | none                             | fair       | FAIR       |
      | those killed were combatants     | discounted | DISCOUNTED |
      | ISIS was most likely responsible | discounted | DISCOUNTED |

  Scenario Outline: When several rules apply, the strongest wins
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: <strike>
    And a competing claim: <claim>
    And an assessment by Coalition: <outcome>
    And a finding: <finding>
    When the rulebook grades it
    Then the grade is <grade> by rule <rule>

    Examples:
      | strike                | claim  | outcome      | finding                      | grade      | rule       |
      | declared by Coalition | Russia | credible     | those killed were combatants | confirmed  | CONFIRMED  |
      | declared by Coalition | Russia | non_credible | those killed were combatants | discounted | DISCOUNTED |
      | declared by Coalition | Russia | non_credible | none                         | contested  | CONTESTED  |
      | declared by Coalition | none   | non_credible | none                         | fair       | FAIR       |
      | none                  | none   | non_credible | none                         | weak       | WEAK       |
      | none                  | Russia | credible     | none                         | confirmed  | CONFIRMED  |

  Scenario Outline: An incident with no source cannot be graded
    Given an incident alleging a strike by Coalition
    And sources <sources>
    And a strike: declared by Coalition
    When the rulebook grades it
    Then grading is refused because "it has no source"
    And nothing was recorded

    Examples:
      | sources     |
      | none        |
      | B2 withdrawn |

  Scenario: The grade records its rule, the rulebook version, its evidence and reasons
    Given an incident alleging a strike by Coalition
    And sources B2 (group a), C3 (group b)
    And a strike: likely by Coalition
    When the rulebook grades it
    Then the grade is fair by rule FAIR
    And the grade was made under rulebook v1
    And the grade relied on sources s1, s2 and a likely strike by Coalition
    And the reasons mention "2 independent credible sources"

  Scenario: A reviewer may override the rulebook with a written rationale
    Given an incident alleging a strike by Coalition
    And sources B2
    When a reviewer overrides the grade to fair because "local investigators confirmed the harm"
    Then the grade is fair by rule OVERRIDE
    And the grade is marked as an override of the rulebook's weak
    And the rationale reads "local investigators confirmed the harm"

  Scenario: An override without a rationale is refused
    Given an incident alleging a strike by Coalition
    And sources B2
    When a reviewer overrides the grade to fair without a rationale
    Then the override is refused because "rationale"
    And nothing was recorded

  Scenario: Asking what the rulebook would grade records nothing
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And a strike: declared by Coalition
    When the rulebook is asked for a suggestion
    Then the suggestion is fair by rule FAIR
    And nothing was recorded
