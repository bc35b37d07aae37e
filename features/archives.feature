Feature: Bringing an existing archive in
  Monitoring groups arrive with years of records that nobody cleaned for
  this program. An import takes them in whole: it is strict about the four
  fields every incident needs (its code, its date, its country and the name
  of its place) and lenient and lossless about everything else. A value
  that cannot be read is kept verbatim beside its field, with a warning,
  and never costs the incident its other facts.

  How to read the tables:
  - Each example starts from a good row: incident CS1 on 2017-03-17 in
    Syria at Raqqa, alleging US-led Coalition, with one source.
  - "field" is the one value the example changes; "(blank)" is an empty or
    whitespace-only value, which always means "unknown".
  - "read as" shows what is recorded; "kept verbatim" means the value could
    not be read and is kept, word for word, where the last column says;
    "refused" means the row is not imported, and the last column names the
    field that was missing or unusable.

  Scenario Outline: Only the four required fields can refuse a row
    Given an archive row
    And its <field> is <value>
    When the row is imported
    Then the row is <outcome> <where>

    Examples:
      | field              | value            | outcome       | where                     |
      | code               | (blank)          | refused       | code                      |
      | code               | CS 12            | refused       | code                      |
      | date               | (blank)          | refused       | date                      |
      | date               | 30 February 2017 | refused       | date                      |
      | date               | 2999-01-01       | refused       | date                      |
      | country            | (blank)          | refused       | country                   |
      | place              | (blank)          | refused       | location.name             |
      | summary            | (blank)          | read as       | unknown                   |
      | belligerents       | (blank)          | read as       | unknown                   |
      | date               | 17 March 2017    | read as       | 2017-03-17                |
      | date               | March 17, 2017   | read as       | 2017-03-17                |
      | date               | 17/03/2017       | read as       | 2017-03-17                |
      | date               | ١٧/٠٣/٢٠١٧       | read as       | 2017-03-17                |
      | date               | 17 آذار 2017     | read as       | 2017-03-17                |
      | civilians killed   | at least 30      | read as       | 30-?                      |
      | civilians killed   | 30+              | read as       | 30-?                      |
      | civilians killed   | 10 to 25         | read as       | 10-25                     |
      | civilians killed   | dozens           | kept verbatim | civilians_killed.text     |
      | source published   | 26 أكتوبر 2025   | read as       | 2025-10-26                |
      | source published   | 31 ديسمبر 0399   | kept verbatim | sources[0].published_text |
      | source kind        | blog             | kept verbatim | sources[0].unread         |
      | source reliability | b                | read as       | B                         |
      | longitude          | 4239             | kept verbatim | location.coordinates_text |
      | a column "colour"  | red              | kept verbatim | unread                    |

  Scenario Outline: Parties are compared the way people mean them
    A name typed with another case, extra spaces or an invisible character
    (a zero width space, written <ZWSP>) is the same party; it is recorded
    as typed, once.

    Given an archive row
    And its belligerents are <belligerents>
    When the row is imported
    Then the incident alleges <recorded>

    Examples:
      | belligerents                                | recorded                                  |
      | US-led Coalition; US-LED COALITION          | US-led Coalition                          |
      | US<ZWSP>-led Coalition; us-led coalition    | US<ZWSP>-led Coalition                    |
      | US-led Coalition; Syrian Democratic Forces  | US-led Coalition, Syrian Democratic Forces |

  Scenario: A recorded alias is recorded under the party's name
    Given the party US-led Coalition is also known as CJTF-OIR
    And an archive row
    And its belligerents are CJTF-OIR
    When the row is imported
    Then the incident alleges US-led Coalition

  Scenario Outline: A row that would break a rule of the workflow is refused
    Given an archive row
    And <change>
    When the row is imported
    Then the row is refused because "<because>"

    Examples:
      | change                                      | because                    |
      | it is graded fair but has no source         | it has no source           |
      | it has a strike declared by Russian Military | alleges US-led Coalition   |
