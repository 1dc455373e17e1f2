// Tests of ossmp/xml.hpp: the hostile-input XML reader, escaping, strict numbers and booleans.
#include "ossmp/xml.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ossmp::errc;
namespace xml = ossmp::xml;

std::vector<std::string> child_names(xml::element e) {
    std::vector<std::string> names;
    for (xml::element c : e.children())
        names.emplace_back(c.name());
    return names;
}

std::string nested(std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i)
        s += "<a>";
    s += "x";
    for (std::size_t i = 0; i < depth; ++i)
        s += "</a>";
    return s;
}

const std::string billion_laughs = R"(<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>)";

} // namespace

TEST_CASE("xml: a document becomes a tree of local names and leaf texts", "[xml]") {
    xml::document d;
    const std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<Root attr=\"ignored\">\n"
                            "  <Bucket>b1</Bucket>\n"
                            "  <Empty/>\n"
                            "  <Spaces>  two  </Spaces>\n"
                            "  <Part><N>1</N><E>x</E></Part>\n"
                            "  <Part><N>2</N></Part>\n"
                            "</Root>\n";
    REQUIRE_FALSE(xml::parse(doc, d));
    CHECK(d.element_count() == 9);
    xml::element root = d.root();
    REQUIRE(root);
    CHECK(root.name() == "Root");
    CHECK(root.text().empty()); // has children: indentation is not kept
    CHECK(root.has_children());
    CHECK(child_names(root) ==
          std::vector<std::string>{"Bucket", "Empty", "Spaces", "Part", "Part"});
    CHECK(root.child("Bucket").text() == "b1");
    CHECK(root.child("Empty"));
    CHECK(root.child("Empty").text().empty());
    CHECK_FALSE(root.child("Empty").has_children());
    CHECK(root.child("Spaces").text() == "  two  ");
    CHECK(root.child_text("Bucket") == std::optional<std::string_view>("b1"));
    CHECK_FALSE(root.child_text("Missing").has_value());

    xml::element part1 = root.child("Part");
    xml::element part2 = part1.next_sibling();
    CHECK(part2.name() == "Part");
    CHECK(part1.child("N").text() == "1");
    CHECK(part1.child("E").text() == "x");
    CHECK(part2.child("N").text() == "2");
    CHECK_FALSE(part2.next_sibling());
    CHECK(part1.child("N").next_sibling() == part1.child("E"));
    CHECK_FALSE(part1.child("E").next_sibling());
}

TEST_CASE("xml: the null element is inert", "[xml]") {
    xml::element e;
    CHECK_FALSE(e);
    CHECK(e.name().empty());
    CHECK(e.text().empty());
    CHECK_FALSE(e.has_children());
    CHECK_FALSE(e.first_child());
    CHECK_FALSE(e.next_sibling());
    CHECK_FALSE(e.child("x"));
    CHECK(e.children().begin() == e.children().end());
    xml::document d;
    CHECK_FALSE(d.root());
    CHECK(d.element_count() == 0);
}

TEST_CASE("xml: namespaces are ignored, local names match", "[xml]") {
    xml::document d;
    REQUIRE_FALSE(xml::parse("<Error xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">"
                             "<Code>NoSuchKey</Code></Error>",
                             d));
    CHECK(d.root().name() == "Error");
    CHECK(d.root().child("Code").text() == "NoSuchKey");

    REQUIRE_FALSE(
        xml::parse("<o:Result xmlns:o=\"urn:x\"><o:Key>k</o:Key><Plain>p</Plain></o:Result>", d));
    CHECK(d.root().name() == "Result");
    CHECK(d.root().child("Key").text() == "k");
    CHECK(d.root().child("Plain").text() == "p");
}

TEST_CASE("xml: references, CDATA and comments are decoded into text", "[xml]") {
    xml::document d;
    REQUIRE_FALSE(xml::parse("<a>"
                             "<p>&amp;&lt;&gt;&quot;&apos;</p>"
                             "<n>&#34;ETAG&#x22;&#233;</n>"
                             "<c><![CDATA[<raw> & ]]>tail</c>"
                             "<m>x<!-- comment -->y<?pi data?>z</m>"
                             "<u>\xE4\xB8\xAD</u>"
                             "</a>",
                             d));
    CHECK(d.root().child("p").text() == "&<>\"'");
    CHECK(d.root().child("n").text() == "\"ETAG\"\xC3\xA9");
    CHECK(d.root().child("c").text() == "<raw> & tail");
    CHECK(d.root().child("m").text() == "xyz");
    CHECK(d.root().child("u").text() == "\xE4\xB8\xAD");
}

TEST_CASE("xml: the declared encoding is honoured and the tree is UTF-8", "[xml]") {
    xml::document d;
    REQUIRE_FALSE(xml::parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><k>caf\xE9</k>", d));
    CHECK(d.root().text() == "caf\xC3\xA9");
    // UTF-8 input that is not valid UTF-8 is refused.
    CHECK(xml::parse("<k>caf\xE9</k>", d) == errc::malformed_xml);
}

TEST_CASE("xml: any DOCTYPE or entity declaration is refused", "[xml]") {
    xml::document d;
    CHECK(xml::parse(billion_laughs, d) == errc::malformed_xml);
    CHECK_FALSE(d.root());
    CHECK(xml::parse(
              "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
              "<a>&xxe;</a>",
              d) == errc::malformed_xml);
    CHECK(xml::parse("<!DOCTYPE a SYSTEM \"http://example.com/a.dtd\"><a/>", d) ==
          errc::malformed_xml);
    CHECK(xml::parse("<!DOCTYPE a><a/>", d) == errc::malformed_xml);
    CHECK(xml::parse("<!DOCTYPE a [<!ENTITY % p \"x\">]><a/>", d) == errc::malformed_xml);
    // Without a DTD, a named entity other than the five predefined ones is undefined.
    CHECK(xml::parse("<a>&lol;</a>", d) == errc::malformed_xml);
}

TEST_CASE("xml: input that is not one well-formed document is malformed", "[xml]") {
    xml::document d;
    const char* bad[] = {
        "",
        "   ",
        "not xml at all",
        "{\"Error\":{\"Code\":\"NoSuchKey\"}}",
        "<html><body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body>",
        "<html><body><br></body></html>",
        "<?xml version=\"1.0\"?>\n<ListPartsResult><Bucket>b</Bucket>",
        "<a><b>text</a>",
        "<a>",
        "<a></a><b></b>",
        "<a></a>junk",
        "<a>&#0;</a>",
        "<a>&#xD800;</a>",
        "<a>& </a>",
        "<a b='1' b='2'/>",
        "<a>\x01</a>",
        "<1a/>",
    };
    for (const char* s : bad) {
        INFO(s);
        CHECK(xml::parse(s, d) == errc::malformed_xml);
        CHECK_FALSE(d.root());
    }
    // Embedded NUL bytes are not XML either.
    CHECK(xml::parse(std::string_view("<a>x\0y</a>", 10), d) == errc::malformed_xml);
}

TEST_CASE("xml: every prefix of a document is refused", "[xml]") {
    const std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<InitiateMultipartUploadResult>\n"
                            "  <Bucket>ming-oss-share</Bucket>\n"
                            "</InitiateMultipartUploadResult>";
    xml::document d;
    REQUIRE_FALSE(xml::parse(doc, d));
    for (std::size_t n = 0; n < doc.size(); ++n) {
        INFO(n);
        CHECK(xml::parse(std::string_view(doc).substr(0, n), d) == errc::malformed_xml);
    }
}

TEST_CASE("xml: the size cap is checked before parsing", "[xml]") {
    xml::document d;
    xml::parse_options o;
    o.max_size = 8;
    CHECK(xml::parse("<a>12</a>", d, o) == errc::xml_too_large);
    CHECK_FALSE(xml::parse("<a>1</a>", d, o)); // exactly 8
    CHECK(d.root().text() == "1");
    // Too large even when it is garbage: the cap comes first.
    CHECK(xml::parse("garbage!!", d, o) == errc::xml_too_large);

    CHECK(xml::default_max_size == 16u * 1024 * 1024);
    std::string big = "<a>";
    big.append(xml::default_max_size - 7, 'x');
    big += "</a>";
    REQUIRE(big.size() == xml::default_max_size);
    CHECK_FALSE(xml::parse(big, d));
    CHECK(d.root().text().size() == xml::default_max_size - 7);
    big.insert(3, "y");
    CHECK(xml::parse(big, d) == errc::xml_too_large);
}

TEST_CASE("xml: depth and element-count caps", "[xml]") {
    xml::document d;
    CHECK_FALSE(xml::parse(nested(xml::default_max_depth), d));
    CHECK(d.element_count() == xml::default_max_depth);
    CHECK(xml::parse(nested(xml::default_max_depth + 1), d) == errc::xml_too_large);
    CHECK(xml::parse(nested(100000), d) == errc::xml_too_large);

    xml::parse_options o;
    o.max_depth = 2;
    CHECK_FALSE(xml::parse("<a><b>1</b></a>", d, o));
    CHECK(xml::parse("<a><b><c/></b></a>", d, o) == errc::xml_too_large);

    o = {};
    o.max_elements = 3;
    CHECK_FALSE(xml::parse("<a><b/><c/></a>", d, o));
    CHECK(d.element_count() == 3);
    CHECK(xml::parse("<a><b/><c/><d/></a>", d, o) == errc::xml_too_large);
    CHECK_FALSE(d.root());
}

TEST_CASE("xml: a document is reusable and a failed parse leaves it empty", "[xml]") {
    xml::document d;
    REQUIRE_FALSE(xml::parse("<a><b>1</b></a>", d));
    CHECK(d.root().child("b").text() == "1");
    REQUIRE_FALSE(xml::parse("<x>y</x>", d));
    CHECK(d.element_count() == 1);
    CHECK(d.root().name() == "x");
    CHECK(d.root().text() == "y");
    CHECK(xml::parse("<x>", d) == errc::malformed_xml);
    CHECK(d.element_count() == 0);
    CHECK_FALSE(d.root());
    d.clear();
    CHECK_FALSE(d.root());
}

TEST_CASE("xml: text around child elements is dropped, leaf text kept whole", "[xml]") {
    xml::document d;
    REQUIRE_FALSE(xml::parse("<a>before<b>in</b>after<c>x&amp;y</c>end</a>", d));
    CHECK(d.root().text().empty());
    CHECK(d.root().child("b").text() == "in");
    CHECK(d.root().child("c").text() == "x&y");
}

TEST_CASE("xml: a 1,000-child document", "[xml]") {
    std::string doc = "<ListPartsResult>\n";
    for (int i = 1; i <= 1000; ++i)
        doc += "  <Part>\n    <PartNumber>" + std::to_string(i) +
               "</PartNumber>\n    <Size>96316</Size>\n  </Part>\n";
    doc += "</ListPartsResult>\n";
    xml::document d;
    REQUIRE_FALSE(xml::parse(doc, d));
    CHECK(d.element_count() == 3001);
    int n = 0;
    for (xml::element p : d.root().children()) {
        ++n;
        CHECK(p.child("PartNumber").text() == std::to_string(n));
    }
    CHECK(n == 1000);
}

TEST_CASE("xml_escape escapes the five special characters only", "[xml]") {
    CHECK(ossmp::xml_escape("") == "");
    CHECK(ossmp::xml_escape("plain ASCII 123") == "plain ASCII 123");
    CHECK(ossmp::xml_escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    CHECK(ossmp::xml_escape("\"ETAG\"") == "&quot;ETAG&quot;");
    CHECK(ossmp::xml_escape("&&") == "&amp;&amp;");
    CHECK(ossmp::xml_escape("\xC3\xA9\n\t") == "\xC3\xA9\n\t");
    std::string out = "<K>";
    ossmp::xml_escape_to(out, "a<b");
    CHECK(out == "<K>a&lt;b");

    // Round trip through the reader.
    const std::string tricky = "k&<>\"' \xE4\xB8\xAD";
    xml::document d;
    REQUIRE_FALSE(xml::parse("<K>" + ossmp::xml_escape(tricky) + "</K>", d));
    CHECK(d.root().text() == tricky);
}

TEST_CASE("xml::parse_number is strict", "[xml]") {
    std::uint64_t u = 7;
    CHECK_FALSE(xml::parse_number("0", u));
    CHECK(u == 0);
    CHECK_FALSE(xml::parse_number("18446744073709551615", u));
    CHECK(u == UINT64_MAX);
    CHECK_FALSE(xml::parse_number("007", u));
    CHECK(u == 7);
    u = 42;
    for (std::string_view bad : {"", "1x", "x1", "-1", "+1", " 1", "1 ", "0x10", "1.5", "1e3",
                                 "18446744073709551616", "99999999999999999999", "\xD9\xA1"}) {
        INFO(bad);
        CHECK(xml::parse_number(bad, u) == errc::bad_xml_number);
        CHECK(u == 42); // unchanged
    }

    int n = 0;
    CHECK_FALSE(xml::parse_number("10000", n, 1, 10000));
    CHECK(n == 10000);
    CHECK_FALSE(xml::parse_number("1", n, 1, 10000));
    CHECK(n == 1);
    CHECK(xml::parse_number("0", n, 1, 10000) == errc::bad_xml_number);
    CHECK(xml::parse_number("10001", n, 1, 10000) == errc::bad_xml_number);
    CHECK(xml::parse_number("-1", n) == errc::bad_xml_number);
    CHECK(xml::parse_number("2147483648", n) == errc::bad_xml_number);
    CHECK_FALSE(xml::parse_number("2147483647", n));
    CHECK(n == 2147483647);
}

TEST_CASE("xml::parse_bool accepts exactly true and false", "[xml]") {
    bool b = false;
    CHECK_FALSE(xml::parse_bool("true", b));
    CHECK(b);
    CHECK_FALSE(xml::parse_bool("false", b));
    CHECK_FALSE(b);
    b = true;
    for (std::string_view bad : {"", "maybe", "True", "FALSE", "1", "0", " true", "true "}) {
        INFO(bad);
        CHECK(xml::parse_bool(bad, b) == errc::bad_xml_value);
        CHECK(b); // unchanged
    }
}
