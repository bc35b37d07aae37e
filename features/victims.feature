Feature: Victims, and how they are counted
  A casualty record names the people harmed where the sources name them, and
  every person recorded points to the sources behind the record. Unnamed
  victims are recorded with what is known. Names, age, family and role are
  personal details: they can be erased for good, and the victim still counts.

  Victims are written "status, named or unnamed, gender, age" in the tables;
  "withdrawn" and "erased" say what happened to the record after.

  Scenario Outline: Who counts among the named killed
    Given an incident alleging a strike by Coalition
    And sources B2, C3
    And the victims <victims>
    Then the named killed are <named killed>

    Examples:
      | victims                                                      | named killed |
      | killed named female 9, killed named male 40                  | 2            |
      | killed named female 9, killed unnamed female                 | 1            |
      | killed named male 40, injured named female 30                | 1            |
      | killed named male 40 withdrawn, killed named female 9        | 1            |
      | killed named male 40 erased, killed named female 9           | 2            |
      | killed unnamed male, injured unnamed female                  | 0            |

  Scenario Outline: Ages make age groups
    Given an incident alleging a strike by Coalition
    And sources B2
    And the victims killed named female <age>
    Then victim v1 is in the age group <group>

    Examples:
      | age | group   |
      | 0   | child   |
      | 17  | child   |
      | 18  | adult   |
      | 64  | adult   |
      | 65  | elderly |

  Scenario Outline: More people named killed than the recorded maximum is work waiting
    Given an incident where <killed> civilians were reported killed
    And sources B2
    And the victims <victims>
    Then the casualty figures are <consistency>

    Examples:
      | killed | victims                                      | consistency  |
      | 1-3    | killed named female 9, killed named male 40  | consistent   |
      | 1      | killed named female 9, killed named male 40  | inconsistent |
      | 1      | killed named female 9, killed unnamed male   | consistent   |
      | unknown | killed named female 9, killed named male 40 | consistent   |

  Scenario: A victim cites sources the incident has
    Given an incident alleging a strike by Coalition
    And sources B2, C3 withdrawn
    When someone records a victim citing s3
    Then it is refused because "has no source s3"
    When someone records a victim citing s2
    Then it is refused because "source s2 of incident CS1 is withdrawn"
    And nothing was recorded

  Scenario: An erased victim's details are gone, and the record stays
    Given an incident alleging a strike by Coalition
    And sources B2
    And the victims killed named female 9
    When victim v1 is erased because "the family asked"
    Then victim v1 has no name, age, family or role
    And the named killed are 1
    And its history reads "Reported, SourceAdded, VictimRecorded, VictimErased"
    When someone amends victim v1
    Then it is refused because "is erased"
