// libFuzzer target: every response parser on arbitrary bytes.
//
// The input is fed as the body of a 200 and of a 404 response to each XML parser (and to
// parse_error, also through the base64 `x-oss-err` header of a body-less response), and as
// the value of the headers the header parsers read. Beyond ASan/UBSan findings, the target
// checks the parsers' promises: success results respect the documented ranges, errors leave
// the result untouched, and escaped text survives a round trip through the XML reader.
#include "ossmp/crypto.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/xml.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

ossmp::http::response make(unsigned status, std::string_view body) {
    ossmp::http::response r;
    r.status = status;
    r.body = std::string(body);
    r.headers.add("x-oss-request-id", "FUZZ");
    return r;
}

void walk(ossmp::xml::element e, int depth) {
    check(depth <= static_cast<int>(ossmp::xml::default_max_depth));
    volatile std::size_t sink = e.name().size() + e.text().size();
    (void)sink;
    if (e.has_children())
        check(e.text().empty());
    for (ossmp::xml::element c : e.children())
        walk(c, depth + 1);
}

void xml_reader(std::string_view in) {
    ossmp::xml::document doc;
    if (!ossmp::xml::parse(in, doc)) {
        check(static_cast<bool>(doc.root()));
        walk(doc.root(), 1);
    } else {
        check(!doc.root());
    }
    // Escaped text is either refused (not valid UTF-8 / not an XML character) or read back
    // exactly. Carriage returns are normalised by XML itself, so leave them out.
    if (in.find('\r') == std::string_view::npos) {
        const std::string wrapped = "<K>" + ossmp::xml_escape(in) + "</K>";
        if (!ossmp::xml::parse(wrapped, doc))
            check(doc.root().text() == in);
    }
}

void xml_parsers(unsigned status, std::string_view in) {
    const auto r = make(status, in);
    ossmp::diagnostics diag;
    {
        ossmp::initiate_result out;
        out.upload_id = "sentinel";
        if (ossmp::parse_initiate(r, out, diag))
            check(out.upload_id == "sentinel");
    }
    {
        ossmp::complete_result out;
        out.location = "sentinel";
        if (ossmp::parse_complete(r, out, diag))
            check(out.location == "sentinel");
        ossmp::complete_result cb;
        if (!ossmp::parse_complete(r, cb, diag, true))
            check(cb.callback_body == in);
    }
    {
        ossmp::list_parts_result out;
        if (!ossmp::parse_list_parts(r, out, diag)) {
            check(out.part_number_marker >= 0 && out.part_number_marker <= 10000);
            check(out.next_part_number_marker >= 0 && out.next_part_number_marker <= 10000);
            check(out.max_parts >= 0);
            for (const auto& p : out.parts)
                check(p.part_number >= 1 && p.part_number <= 10000);
        } else {
            check(out.parts.empty() && out.bucket.empty());
        }
    }
    {
        ossmp::list_uploads_result out;
        if (!ossmp::parse_list_uploads(r, out, diag))
            check(out.max_uploads >= 0);
        else
            check(out.uploads.empty() && out.bucket.empty());
    }
    {
        auto ec = ossmp::parse_error(r, diag);
        check(ec.category() == ossmp::service_category());
        check(diag.http_status == status);
        check(diag.message.size() <= in.size() + 3);
    }
    {
        // A body-less response carrying the input in x-oss-err.
        auto h = make(status, "");
        h.headers.add("x-oss-err", ossmp::crypto::base64_encode(in));
        auto ec = ossmp::parse_error(h, diag);
        check(ec.category() == ossmp::service_category());
    }
}

void header_parsers(std::string_view in) {
    const std::string value(in);
    ossmp::diagnostics diag;
    {
        auto r = make(200, "");
        r.headers.add("ETag", value);
        r.headers.add("x-oss-hash-crc64ecma", value);
        ossmp::upload_part_result out;
        (void)ossmp::parse_upload_part(r, out, diag);
        ossmp::put_object_result put;
        (void)ossmp::parse_put_object(r, put, diag);
    }
    {
        auto r = make(206, "");
        r.headers.add("Content-Length", value);
        r.headers.add("Content-Range", value);
        r.headers.add("Last-Modified", value);
        r.headers.add("x-oss-meta-" + value, value);
        ossmp::object_meta out;
        (void)ossmp::parse_head_object(r, out, diag);
        (void)ossmp::parse_get_object(r, out, diag);
    }
    {
        auto r = make(204, "");
        r.headers.add("x-oss-delete-marker", value);
        ossmp::delete_object_result out;
        (void)ossmp::parse_delete_object(r, out, diag);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    xml_reader(in);
    xml_parsers(200, in);
    xml_parsers(404, in);
    header_parsers(in);
    return 0;
}
