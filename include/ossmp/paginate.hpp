// ossmp/paginate.hpp: every page of ListParts and ListMultipartUploads, as pagers (one page per
// call, any completion token) and as async generators (one element per `co_await`), plus the
// stale-upload cleanup built on them.
//
// Composite layer: built on ops/list_parts.hpp, ops/list_multipart_uploads.hpp and
// ops/abort.hpp only. One engine (`detail::basic_pager`) follows the markers and refuses
// replies that would make a listing endless or inconsistent; the generators and the cleanup
// list through it, never with the list ops directly.
//
// Why the generators are a class of our own and not `experimental::coro`: README, "Design notes".
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/model.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/list_multipart_uploads.hpp"
#include "ossmp/ops/list_parts.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/validate.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace ossmp {

// --- Elements ------------------------------------------------------------------------------------

/// A common prefix of a ListMultipartUploads listing made with a delimiter
/// (`CommonPrefixes/Prefix`, decoded): the uploads whose keys start with it are rolled up into it.
struct common_prefix {
    std::string prefix;
    friend bool operator==(const common_prefix&, const common_prefix&) = default;
};

/// One element of `list_all_uploads`: an in-progress upload or a common prefix. A variant, not a
/// struct with a flag: an element is exactly one of the two, `std::visit` makes the compiler
/// check that both are handled, and neither carries the other's empty fields. Within a page the
/// two kinds are merged in key order (a prefix sorts where its text sorts among the keys).
using upload_entry = std::variant<upload_info, common_prefix>;

/// The text an entry sorts by: the upload's key or the prefix.
inline const std::string& entry_key(const upload_entry& e) noexcept {
    if (const auto* u = std::get_if<upload_info>(&e))
        return u->key;
    return std::get<common_prefix>(e).prefix;
}

namespace detail {

/// Rules of ListParts paging (oss-reference 2.5).
struct parts_paging {
    using params_type = list_parts_params;
    using page_type = list_parts_result;
    using element_type = part_info;
    struct cursor {}; // the part-number marker is the whole cursor

    static void prepare(params_type& p, cursor&) { p.encoding_type_url = true; }

    static void set_page_size(params_type& p, int n) {
        if (n == 0)
            p.max_parts.reset();
        else
            p.max_parts = n;
    }

    template <class Client, class Token>
    static auto list(Client& c, const params_type& p, diagnostics& d, Token&& token) {
        return async_list_parts(c, p, d, std::forward<Token>(token));
    }

    /// Checks `page` (the reply to a request made with `p`) and moves `p` on. Parts must be
    /// numbered above the marker in strictly increasing order; a truncated page must move the
    /// marker forward, to at least its last part, and below the last part number (a marker of
    /// 10000 while truncated could only be followed by nothing or by the same parts again).
    static std::error_code accept(params_type& p, cursor&, const page_type& page, bool& done) {
        const int marker = p.part_number_marker.value_or(0);
        int last = marker;
        for (const auto& part : page.parts) {
            if (part.part_number <= last)
                return errc::bad_xml_value; // repeated or regressing part
            last = part.part_number;
        }
        if (!page.is_truncated) {
            done = true;
            return {};
        }
        const int next = page.next_part_number_marker;
        if (next <= marker || next < last || next >= max_parts)
            return errc::bad_xml_value; // would list the same parts again, or forever
        p.part_number_marker = next;
        return {};
    }

    static void elements(page_type&& page, std::deque<element_type>& out) {
        for (auto& part : page.parts)
            out.push_back(std::move(part));
    }
};

/// Rules of ListMultipartUploads paging (oss-reference 2.6). Keys compare as bytes
/// (`std::string` compares as unsigned char), the order OSS lists UTF-8 keys in. The order of
/// the upload ids of one key is not assumed (S3 lists them by initiation time, not by id): only
/// that none repeats.
struct uploads_paging {
    using params_type = list_uploads_params;
    using page_type = list_uploads_result;
    using element_type = upload_entry;
    /// The last key listed with the upload ids listed for it, and the last common prefix.
    struct cursor {
        bool have_key = false;
        std::string key;
        std::set<std::string> ids; // of `key`
        bool have_prefix = false;
        std::string prefix;
    };

    static void prepare(params_type& p, cursor& c) {
        p.encoding_type_url = true; // keys with any byte come back intact (decoded by the op)
        c.have_key = !p.key_marker.empty();
        c.key = p.key_marker;
        if (c.have_key && !p.upload_id_marker.empty())
            c.ids.insert(p.upload_id_marker);
    }

    static void set_page_size(params_type& p, int n) {
        if (n == 0)
            p.max_uploads.reset();
        else
            p.max_uploads = n;
    }

    template <class Client, class Token>
    static auto list(Client& c, const params_type& p, diagnostics& d, Token&& token) {
        return async_list_uploads(c, p, d, std::forward<Token>(token));
    }

    /// Checks `page` and moves `p` on. Keys must not sort before the last key seen (the first
    /// page: the key-marker given), and an upload id must not repeat for its key; common
    /// prefixes must sort strictly after the last one seen. A truncated page must name a
    /// non-empty key marker that does not sort before the one sent, and when it names the same
    /// key, an upload of that key listed on this page (so each page lists something new). The
    /// cursor changes only when the whole page is accepted.
    static std::error_code accept(params_type& p, cursor& c, const page_type& page, bool& done) {
        cursor next = c;
        for (const auto& u : page.uploads) {
            if (next.have_key && u.key < next.key)
                return errc::bad_xml_value; // regressing key
            if (!next.have_key || u.key != next.key) {
                next.have_key = true;
                next.key = u.key;
                next.ids.clear();
            }
            if (!next.ids.insert(u.upload_id).second)
                return errc::bad_xml_value; // repeated upload
        }
        for (const auto& prefix : page.common_prefixes) {
            if (next.have_prefix && prefix <= next.prefix)
                return errc::bad_xml_value; // repeated or regressing prefix
            next.have_prefix = true;
            next.prefix = prefix;
        }
        if (page.is_truncated) {
            const auto& nkm = page.next_key_marker;
            const auto& num = page.next_upload_id_marker;
            // An empty key marker would start the listing again from the beginning.
            if (nkm.empty() || nkm < p.key_marker)
                return errc::bad_xml_value;
            if (nkm == p.key_marker) {
                bool listed_here = false;
                for (const auto& u : page.uploads)
                    listed_here = listed_here || (u.key == nkm && u.upload_id == num);
                if (!listed_here || num == p.upload_id_marker)
                    return errc::bad_xml_value; // the same page would come again
            }
            p.key_marker = nkm;
            p.upload_id_marker = num;
        } else {
            done = true;
        }
        c = std::move(next);
        return {};
    }

    /// The page's uploads and prefixes, merged by key (each list is sorted already).
    static void elements(page_type&& page, std::deque<element_type>& out) {
        auto u = page.uploads.begin();
        auto p = page.common_prefixes.begin();
        while (u != page.uploads.end() || p != page.common_prefixes.end()) {
            if (p == page.common_prefixes.end() || (u != page.uploads.end() && u->key <= *p)) {
                out.emplace_back(std::in_place_type<upload_info>, std::move(*u));
                ++u;
            } else {
                out.emplace_back(std::in_place_type<common_prefix>, common_prefix{std::move(*p)});
                ++p;
            }
        }
    }
};

/// The engine of `parts_pager` and `uploads_pager` (documented there).
template <class Client, class Paging>
class basic_pager {
    static_assert(is_basic_client<Client>::value,
                  "ossmp pagers: Client must be an ossmp::basic_client<Transport, Credentials>");

public:
    using client_type = Client;
    using paging_type = Paging;
    using params_type = typename Paging::params_type;
    using page_type = typename Paging::page_type;
    using element_type = typename Paging::element_type;

    basic_pager(Client& client, params_type params)
        : st_(std::make_shared<state>(client, std::move(params))) {
        Paging::prepare(st_->params, st_->cursor);
    }

    /// True once the last page has been returned (then `async_next` fails with
    /// `errc::end_of_listing` without sending anything).
    bool done() const noexcept { return st_->done.load(std::memory_order_acquire); }

    /// True while an `async_next` is running.
    bool busy() const noexcept { return st_->busy.load(std::memory_order_acquire); }

    /// The parameters the next call sends (the markers move on after each page). Not to be
    /// read while a call is running.
    const params_type& params() const noexcept { return st_->params; }

    /// Page size of the following calls: 1..1000 (the API's limit; a value outside it makes
    /// the next call fail with `errc::invalid_argument` before anything is sent), or 0 for the
    /// server's default (1000). Not to be called while a call is running.
    void set_page_size(int n) { Paging::set_page_size(st_->params, n); }

    /// What the server said to the last call that got an answer (status, request id; for an
    /// error, its Code, Message, EC...). Not to be read while a call is running.
    const diagnostics& last_diagnostics() const noexcept { return st_->diag; }

    /// Requests the next page and moves the markers on (see `parts_pager` / `uploads_pager`).
    /// Completion signature `void(std::error_code, page_type)`; `diag` gets a copy of the
    /// call's diagnostics just before completion (not when the call was refused:
    /// `operation_in_progress`, `end_of_listing`). `diag` must outlive the call.
    template <asio::completion_token_for<void(std::error_code, page_type)> Token>
    auto async_next(diagnostics& diag, Token&& token) {
        return start(&diag, std::forward<Token>(token));
    }

    /// `async_next` without caller-visible diagnostics (see `last_diagnostics()`).
    template <asio::completion_token_for<void(std::error_code, page_type)> Token>
    auto async_next(Token&& token) {
        return start(nullptr, std::forward<Token>(token));
    }

private:
    // Shared with a running call, so that moving or destroying the pager never leaves a call
    // with a dangling state (the call then completes normally and the state goes with it).
    struct state {
        state(Client& c, params_type p) : client(c), params(std::move(p)) {}
        Client& client;
        params_type params;
        typename Paging::cursor cursor;
        diagnostics diag;
        std::atomic<bool> busy{false};
        std::atomic<bool> done{false};
    };

    struct next_op {
        std::shared_ptr<state> st;
        diagnostics* out; // the caller's, or null
        std::error_code early;
        bool started = false;

        template <class Self>
        void operator()(Self& self) {
            if (!started) {
                started = true;
                if (st->busy.exchange(true, std::memory_order_acq_rel)) {
                    early = errc::operation_in_progress; // the running call keeps the state
                } else if (st->done.load(std::memory_order_acquire)) {
                    st->busy.store(false, std::memory_order_release);
                    early = errc::end_of_listing;
                }
                if (early) {
                    // Same rule as every Asio initiating function: never complete inline.
                    asio::post(std::move(self));
                    return;
                }
                Paging::list(st->client, st->params, st->diag, std::move(self));
                return;
            }
            self.complete(early, page_type{});
        }

        template <class Self>
        void operator()(Self& self, std::error_code ec, page_type page) {
            bool done = false;
            if (!ec)
                ec = Paging::accept(st->params, st->cursor, page, done);
            if (ec)
                page = page_type{}; // a failed call leaves the pager as it was
            else if (done)
                st->done.store(true, std::memory_order_release);
            if (out)
                *out = st->diag;
            st->busy.store(false, std::memory_order_release);
            self.complete(ec, std::move(page));
        }
    };

    template <class Token>
    auto start(diagnostics* out, Token&& token) {
        return asio::async_compose<Token, void(std::error_code, page_type)>(
            next_op{st_, out, {}, false}, token, st_->client.get_executor());
    }

    std::shared_ptr<state> st_;
};

/// Yields every element.
template <class Element>
struct all_elements {
    using element_type = Element;
    /// False: stop here (nothing more is yielded or requested).
    bool step(Element&& in, std::optional<element_type>& out) {
        out = std::move(in);
        return true;
    }
    template <class Pager>
    bool finished(const Pager&) const noexcept {
        return false;
    }
};

/// The uploads of one key from a listing with prefix = key: yields uploads whose key equals it
/// and stops at the first key that sorts after it (every key of the listing starts with it, so
/// all of the key's uploads come first).
struct uploads_of_key {
    using element_type = upload_info;
    std::string key;

    bool step(upload_entry&& in, std::optional<element_type>& out) {
        auto* u = std::get_if<upload_info>(&in);
        if (!u)
            return true; // no delimiter is sent, so no prefixes: skip one anyway
        if (u->key > key)
            return false;
        if (u->key == key)
            out = std::move(*u);
        return true;
    }
    /// No further page when the next page would start after the key.
    template <class Pager>
    bool finished(const Pager& pager) const {
        return pager.params().key_marker > key;
    }
};

} // namespace detail

// --- Pagers --------------------------------------------------------------------------------------

/// One ListParts page per call, following `NextPartNumberMarker`.
///
/// `async_next(token)` / `async_next(diagnostics&, token)`: completion signature
/// `void(std::error_code, list_parts_result)` (the page, as `async_list_parts` returns it; the
/// key is URL-decoded: `encoding-type=url` is always sent). Errors: those of `async_list_parts`
/// (each page request is one call of it, so it is retried as `client_options::retry` says: the
/// client already retries every operation; nothing more is done here), and:
/// - `errc::bad_xml_value`: a malformed reply that would make the listing endless or
///   inconsistent: parts at or below the marker, repeated or out of order, or a truncated page
///   whose `NextPartNumberMarker` does not move forward, lies below its last part or reaches
///   10000;
/// - `errc::operation_in_progress`: another `async_next` of this pager is still running (it is
///   not disturbed; only one call at a time, never a race: the check is atomic);
/// - `errc::end_of_listing`: `done()` was already true.
/// A failed call changes nothing: the next call requests the same page again. Refused calls
/// send nothing and complete through a post, never inline.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the request (and to the client's retry backoff); the call completes with
/// `asio::error::operation_aborted` and the pager is unchanged.
///
/// Lifetimes: `params` is copied into the pager. `client` must outlive the pager and every
/// call. Moving or destroying the pager while a call runs is safe (the call shares the pager's
/// state and completes normally); a moved-from pager may only be destroyed or assigned to. Start a
/// call from the thread (or strand) that owns the pager; the state is made safe against a call
/// completing on another thread.
template <class Client>
class parts_pager : public detail::basic_pager<Client, detail::parts_paging> {
public:
    /// Lists `params.upload_id`'s parts after `params.part_number_marker` (unset: from the
    /// first), `params.max_parts` per page (unset: the server's 1000).
    parts_pager(Client& client, list_parts_params params)
        : detail::basic_pager<Client, detail::parts_paging>(client, std::move(params)) {}
};

template <class Transport, class Credentials>
parts_pager(basic_client<Transport, Credentials>&, list_parts_params)
    -> parts_pager<basic_client<Transport, Credentials>>;

/// One ListMultipartUploads page per call, following `NextKeyMarker` + `NextUploadIdMarker`.
/// `encoding-type=url` is always sent, so keys, prefixes and markers with any byte (spaces,
/// `+`, `%`, UTF-8, control characters) come back intact (decoded by `parse_list_uploads`).
///
/// `async_next(token)` / `async_next(diagnostics&, token)`: completion signature
/// `void(std::error_code, list_uploads_result)`. Errors: those of `async_list_uploads` (retried
/// per `client_options::retry` by the client itself), and `errc::bad_xml_value` for a reply
/// that would make the listing endless or inconsistent: an upload whose key sorts before the
/// last key seen (on the first page: the key-marker given) or whose upload id repeats one
/// listed for that key (the order of the ids of one key is not assumed), a common prefix not
/// strictly after the last one, or a truncated page whose `NextKeyMarker` is empty or sorts
/// before the marker sent, or names the same key without naming an upload of it listed on that
/// page; `errc::operation_in_progress` and `errc::end_of_listing` as `parts_pager`. A failed
/// call changes nothing.
///
/// Cancellation and lifetimes: as `parts_pager`.
template <class Client>
class uploads_pager : public detail::basic_pager<Client, detail::uploads_paging> {
public:
    /// Lists the uploads of `params.bucket` (prefix, delimiter, and starting after
    /// key_marker/upload_id_marker as given), `params.max_uploads` per page.
    uploads_pager(Client& client, list_uploads_params params)
        : detail::basic_pager<Client, detail::uploads_paging>(client, std::move(params)) {}
};

template <class Transport, class Credentials>
uploads_pager(basic_client<Transport, Credentials>&, list_uploads_params)
    -> uploads_pager<basic_client<Transport, Credentials>>;

// --- Generators ----------------------------------------------------------------------------------

/// An async generator over a pager: `co_await g.next()` gives the next element, fetching the
/// next page only when the elements of the page before have all been taken.
///
/// `next()`: `asio::awaitable<std::optional<element_type>>`; nullopt after the last element.
/// Throws `std::system_error` on an error (its `what()` carries the server's diagnostics when
/// there was a response). `next(std::error_code& ec)`: the same without throwing; `ec` is set
/// and nullopt returned on an error (`ec` must stay alive until the co_await returns). An
/// error surfaces at the element where it happens: after every element of the pages before
/// it. After an error, calling `next()` again requests the failed page again. Errors: those of
/// the pager (including `errc::bad_xml_value` for an endless or inconsistent listing), and
/// `errc::operation_in_progress` when another coroutine's `next()` is still waiting for a page.
///
/// Cancellation: terminal cancellation of the awaiting coroutine cancels the page request in
/// flight; `next()` then throws (or gives `ec`) `asio::error::operation_aborted`. Elements
/// already fetched are served without I/O.
///
/// Lifetimes: between two `next()` calls nothing runs and nothing is prefetched, so the
/// generator can be destroyed at any point of the iteration (it holds only the pager and the
/// rest of the current page). It must not be destroyed while a `next()` is suspended. The client
/// must outlive it; parameters are copied.
template <class Pager, class Filter = detail::all_elements<typename Pager::element_type>>
class list_generator {
public:
    using pager_type = Pager;
    using element_type = typename Filter::element_type;

    explicit list_generator(Pager pager, Filter filter = Filter{})
        : pager_(std::move(pager)), filter_(std::move(filter)) {}

    asio::awaitable<std::optional<element_type>> next() {
        std::error_code ec;
        auto e = co_await next(ec);
        if (ec) {
            const diagnostics& d = pager_.last_diagnostics();
            throw std::system_error(ec, d.http_status ? "ossmp listing: " + d.to_string()
                                                      : std::string("ossmp listing"));
        }
        co_return std::move(e);
    }

    asio::awaitable<std::optional<element_type>> next(std::error_code& ec) {
        ec.clear();
        if (fetching_) {
            ec = errc::operation_in_progress;
            co_return std::nullopt;
        }
        for (;;) {
            while (!buffer_.empty()) {
                auto in = std::move(buffer_.front());
                buffer_.pop_front();
                std::optional<element_type> out;
                if (!filter_.step(std::move(in), out)) {
                    finished_ = true;
                    buffer_.clear();
                    co_return std::nullopt;
                }
                if (out)
                    co_return std::move(out);
            }
            if (finished_ || pager_.done() || filter_.finished(pager_)) {
                finished_ = true;
                co_return std::nullopt;
            }
            fetching_ = true;
            auto [fec, page] =
                co_await pager_.async_next(asio::experimental::as_tuple(asio::use_awaitable));
            fetching_ = false;
            if (fec) {
                ec = fec;
                co_return std::nullopt;
            }
            Pager::paging_type::elements(std::move(page), buffer_);
        }
    }

    /// True when `next()` will give nullopt without any request.
    bool done() const noexcept {
        return buffer_.empty() && (finished_ || pager_.done() || filter_.finished(pager_));
    }
    /// Elements fetched and not yet taken (before filtering).
    std::size_t buffered() const noexcept { return buffer_.size(); }
    /// The pager (its markers and `last_diagnostics()`).
    const Pager& pager() const noexcept { return pager_; }
    /// Sets the page size of the following page requests (see `basic_pager::set_page_size`).
    void set_page_size(int n) { pager_.set_page_size(n); }
    /// What the server said to the last page request.
    const diagnostics& last_diagnostics() const noexcept { return pager_.last_diagnostics(); }

private:
    Pager pager_;
    Filter filter_;
    std::deque<typename Pager::element_type> buffer_;
    bool fetching_ = false;
    bool finished_ = false;
};

/// Every part of an upload (`part_info`, ascending part numbers).
template <class Client>
using parts_generator = list_generator<parts_pager<Client>>;

/// Every upload and common prefix of a listing (`upload_entry`, in key order).
template <class Client>
using uploads_generator = list_generator<uploads_pager<Client>>;

/// The uploads of one object key (`upload_info`).
template <class Client>
using object_uploads_generator = list_generator<uploads_pager<Client>, detail::uploads_of_key>;

/// Options of `list_all_parts`.
struct list_parts_options {
    int page_size = 0;          ///< parts per page, 1..1000; 0: the server's default (1000)
    int part_number_marker = 0; ///< start after this part number
    std::string request_payer;  ///< x-oss-request-payer; "" = not sent
};

/// Every part of upload `upload_id` of `bucket`/`key`, fetched lazily page by page (see
/// `list_generator` for `next()`, errors, cancellation and lifetimes). Nothing is sent before the
/// first `next()`; invalid arguments (empty key or upload id, bad bucket, page size outside
/// 1..1000) fail that first `next()` before anything is sent. Strings are copied; `client` must
/// outlive the generator.
template <class Transport, class Credentials>
parts_generator<basic_client<Transport, Credentials>>
list_all_parts(basic_client<Transport, Credentials>& client, std::string bucket, std::string key,
               std::string upload_id, list_parts_options options = {}) {
    list_parts_params p;
    p.bucket = std::move(bucket);
    p.key = std::move(key);
    p.upload_id = std::move(upload_id);
    if (options.part_number_marker > 0)
        p.part_number_marker = options.part_number_marker;
    p.request_payer = std::move(options.request_payer);
    parts_pager<basic_client<Transport, Credentials>> pager(client, std::move(p));
    pager.set_page_size(options.page_size);
    return parts_generator<basic_client<Transport, Credentials>>(std::move(pager));
}

/// Options of `list_all_uploads`.
struct list_uploads_options {
    std::string prefix;           ///< only keys starting with this
    std::string delimiter;        ///< roll keys up into common prefixes at this
    std::string key_marker;       ///< start after this key...
    std::string upload_id_marker; ///< ...and, for that key, after this upload id
    int page_size = 0;            ///< entries per page, 1..1000; 0: the server's default (1000)
    std::string request_payer;    ///< x-oss-request-payer; "" = not sent
};

/// Every in-progress upload and common prefix of `bucket` (`upload_entry`), fetched lazily page
/// by page, in key order (see `list_generator`). `encoding-type=url` is always sent. Strings
/// are copied; `client` must outlive the generator.
template <class Transport, class Credentials>
uploads_generator<basic_client<Transport, Credentials>>
list_all_uploads(basic_client<Transport, Credentials>& client, std::string bucket,
                 list_uploads_options options = {}) {
    list_uploads_params p;
    p.bucket = std::move(bucket);
    p.prefix = std::move(options.prefix);
    p.delimiter = std::move(options.delimiter);
    p.key_marker = std::move(options.key_marker);
    p.upload_id_marker = std::move(options.upload_id_marker);
    p.request_payer = std::move(options.request_payer);
    uploads_pager<basic_client<Transport, Credentials>> pager(client, std::move(p));
    pager.set_page_size(options.page_size);
    return uploads_generator<basic_client<Transport, Credentials>>(std::move(pager));
}

/// The in-progress uploads of exactly `bucket`/`key` (`upload_info`): lists with prefix = key,
/// keeps the uploads whose key equals it, and stops as soon as the listing reaches a key that
/// sorts after it (no further page is requested; with prefix = key every key of the listing
/// starts with it, so the key's own uploads come first). See `list_generator`. Strings are
/// copied; `client` must outlive the generator.
template <class Transport, class Credentials>
object_uploads_generator<basic_client<Transport, Credentials>>
list_uploads_of_object(basic_client<Transport, Credentials>& client, std::string bucket,
                       std::string key, int page_size = 0) {
    list_uploads_params p;
    p.bucket = std::move(bucket);
    p.prefix = key;
    uploads_pager<basic_client<Transport, Credentials>> pager(client, std::move(p));
    pager.set_page_size(page_size);
    detail::uploads_of_key filter;
    filter.key = std::move(key);
    return object_uploads_generator<basic_client<Transport, Credentials>>(std::move(pager),
                                                                          std::move(filter));
}

// --- Cleanup of stale uploads --------------------------------------------------------------------

/// What the cleanup did with one upload.
enum class cleanup_action {
    would_abort, ///< dry run: old enough, not aborted
    aborted,     ///< AbortMultipartUpload succeeded
    gone,        ///< NoSuchUpload: completed or aborted by someone else meanwhile (not a failure)
    failed,      ///< the abort failed (`cleanup_entry::ec`), or was cancelled
};

/// "would_abort", "aborted", "gone", "failed".
inline std::string_view to_string(cleanup_action a) noexcept {
    switch (a) {
    case cleanup_action::would_abort:
        return "would_abort";
    case cleanup_action::aborted:
        return "aborted";
    case cleanup_action::gone:
        return "gone";
    case cleanup_action::failed:
        return "failed";
    }
    return "unknown";
}

/// One upload the cleanup acted on (old enough).
struct cleanup_entry {
    std::string key;       ///< decoded
    std::string upload_id; ///< as listed
    std::string initiated; ///< `Initiated` as listed
    /// `initiated` parsed (always set: an upload without a parsable time is never acted on)
    std::optional<std::chrono::system_clock::time_point> initiated_time;
    cleanup_action action = cleanup_action::would_abort;
    std::error_code ec; ///< why, for `failed` (`operation_aborted` when cancelled); else empty
    diagnostics diag;   ///< the AbortMultipartUpload response (empty in a dry run)
};

/// Settings of `async_cleanup_uploads`.
struct cleanup_options {
    std::string prefix; ///< only uploads whose key starts with this
    /// Uploads initiated before `client.now() - older_than` are aborted (the client's clock,
    /// `client_options::clock`, corrected by its learnt offset to the server's time).
    std::chrono::system_clock::duration older_than = std::chrono::hours(24 * 7);
    bool dry_run = false;      ///< report `would_abort`, abort nothing
    unsigned parallel = 4;     ///< at most this many aborts at once (0 counts as 1)
    int page_size = 0;         ///< uploads per listing page, 1..1000; 0: the server's 1000
    std::string request_payer; ///< x-oss-request-payer; "" = not sent
    /// Called once per upload acted on, when its action is known (in that order, on the
    /// cleanup's strand). Should not throw: an exception stops the cleanup (no further abort
    /// starts, those in flight are cancelled, no further call) and becomes its error
    /// (a `std::system_error`'s code, else `errc::invalid_argument`).
    std::function<void(const cleanup_entry&)> on_upload;
};

/// What `async_cleanup_uploads` did.
struct cleanup_result {
    /// Uploads initiated before this (`client.now() - older_than`) were due.
    std::chrono::system_clock::time_point cutoff;
    std::size_t pages = 0;       ///< listing pages received
    std::size_t listed = 0;      ///< uploads listed
    std::size_t kept = 0;        ///< too recent, or with an `Initiated` that does not parse
    std::size_t would_abort = 0; ///< dry run
    std::size_t aborted = 0;
    std::size_t gone = 0;
    std::size_t failed = 0;
    std::vector<cleanup_entry> uploads; ///< every upload acted on, as reported to `on_upload`
    diagnostics list_diag; ///< the last ListMultipartUploads response (the failing one)
};

namespace detail {

template <class Client>
class cleaner : public std::enable_shared_from_this<cleaner<Client>> {
public:
    using executor_type = asio::strand<asio::any_io_executor>;

    cleaner(Client& client, std::string bucket, cleanup_options options, executor_type strand)
        : client_(client), bucket_(std::move(bucket)), options_(std::move(options)),
          strand_(std::move(strand)) {
        if (options_.parallel == 0)
            options_.parallel = 1;
    }

    /// The whole cleanup; never throws (every failure is in the error code).
    asio::awaitable<std::pair<std::error_code, cleanup_result>> run() {
        co_await asio::this_coro::throw_if_cancelled(false);
        std::error_code ec;
        bool threw = false;
        try {
            ec = co_await list_and_abort();
        } catch (...) { // bad_alloc and the like: nothing of the plan throws
            ec = detail::error_of(std::current_exception());
            threw = true;
        }
        // The handler runs only after every abort started has ended: cancel them on a
        // cancellation, an exception or an on_upload that threw; else let them end (a listing
        // error does not undo aborts already on their way).
        if (threw || failed_hard_ || ec == asio::error::operation_aborted)
            cancel_aborts();
        while (in_flight_ > 0) {
            std::error_code wec;
            try {
                wec = co_await wait_event();
            } catch (...) {
                wec = detail::error_of(std::current_exception());
                cancel_aborts();
            }
            if (wec && !ec)
                ec = wec;
        }
        if (!ec)
            ec = first_abort_error_;
        co_return std::make_pair(ec, std::move(result_));
    }

private:
    using timer_type =
        asio::basic_waitable_timer<std::chrono::steady_clock,
                                   asio::wait_traits<std::chrono::steady_clock>, executor_type>;

    asio::awaitable<std::error_code> list_and_abort() {
        result_.cutoff = client_.now() - options_.older_than;
        list_uploads_params lp;
        lp.bucket = bucket_;
        lp.prefix = options_.prefix;
        lp.request_payer = options_.request_payer;
        // Markers, not offsets: uploads aborted meanwhile cannot shift the next page.
        uploads_pager<Client> pager(client_, std::move(lp));
        pager.set_page_size(options_.page_size);
        while (!pager.done()) {
            auto [ec, page] = co_await pager.async_next(
                result_.list_diag, asio::experimental::as_tuple(asio::use_awaitable));
            if (ec)
                co_return ec; // operation_aborted: the caller cancelled
            ++result_.pages;
            for (auto& u : page.uploads) {
                ++result_.listed;
                if (!u.initiated_time || *u.initiated_time >= result_.cutoff) {
                    ++result_.kept;
                    continue;
                }
                cleanup_entry e;
                e.key = std::move(u.key);
                e.upload_id = std::move(u.upload_id);
                e.initiated = std::move(u.initiated);
                e.initiated_time = u.initiated_time;
                if (options_.dry_run) {
                    e.action = cleanup_action::would_abort;
                    report(std::move(e));
                    if (failed_hard_)
                        co_return hard_error_;
                    continue;
                }
                while (in_flight_ >= options_.parallel)
                    if (auto wec = co_await wait_event())
                        co_return wec;
                if (failed_hard_)
                    co_return hard_error_;
                start_abort(std::move(e));
            }
            take_finished();
            if (failed_hard_)
                co_return hard_error_;
        }
        co_return std::error_code{};
    }

    /// Waits until an abort ends (or the caller cancels: operation_aborted, once), then reports
    /// the aborts that ended.
    asio::awaitable<std::error_code> wait_event() {
        if (finished_.empty()) {
            wake_.expires_at(timer_type::time_point::max());
            co_await wake_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        }
        std::error_code ec;
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) {
            ec = asio::error::operation_aborted;
            cancel_aborts();
            co_await asio::this_coro::reset_cancellation_state();
        }
        take_finished();
        co_return ec;
    }

    void start_abort(cleanup_entry e) {
        ++in_flight_;
        const std::uint64_t id = next_id_++;
        auto& signal = signals_[id];
        signal = std::make_unique<asio::cancellation_signal>();
        asio::co_spawn(
            strand_, abort_one(std::move(e)),
            asio::bind_cancellation_slot(
                signal->slot(),
                asio::bind_executor(strand_, [self = this->shared_from_this(),
                                              id](std::exception_ptr x, cleanup_entry done) {
                    if (x) {
                        done.action = cleanup_action::failed;
                        done.ec = detail::error_of(x);
                    }
                    self->finished_.emplace_back(id, std::move(done));
                    // Wakes `wait_event`; the timer's completion is posted,
                    // so this abort's coroutine has unwound before its signal
                    // is destroyed in `take_finished`.
                    self->wake_.cancel();
                })));
    }

    asio::awaitable<cleanup_entry> abort_one(cleanup_entry e) {
        abort_params ap;
        ap.bucket = bucket_;
        ap.key = e.key;
        ap.upload_id = e.upload_id;
        ap.request_payer = options_.request_payer;
        auto [ec, r] = co_await async_abort_upload(
            client_, ap, e.diag, asio::experimental::as_tuple(asio::use_awaitable));
        if (!ec) {
            e.action = cleanup_action::aborted;
        } else if (ec == service_errc::no_such_upload) {
            e.action = cleanup_action::gone;
        } else {
            e.action = cleanup_action::failed;
            e.ec = ec;
        }
        co_return std::move(e);
    }

    void take_finished() {
        while (!finished_.empty()) {
            auto [id, e] = std::move(finished_.front());
            finished_.pop_front();
            signals_.erase(id);
            --in_flight_;
            if (e.action == cleanup_action::failed && !first_abort_error_)
                first_abort_error_ = e.ec;
            report(std::move(e));
        }
    }

    void cancel_aborts() {
        for (auto& [id, s] : signals_)
            s->emit(asio::cancellation_type::terminal);
    }

    void report(cleanup_entry e) {
        switch (e.action) {
        case cleanup_action::would_abort:
            ++result_.would_abort;
            break;
        case cleanup_action::aborted:
            ++result_.aborted;
            break;
        case cleanup_action::gone:
            ++result_.gone;
            break;
        case cleanup_action::failed:
            ++result_.failed;
            break;
        }
        result_.uploads.push_back(std::move(e));
        if (options_.on_upload && !failed_hard_) {
            try {
                options_.on_upload(result_.uploads.back());
            } catch (...) {
                // The cleanup stops (the aborts in flight are cancelled, no callback again).
                failed_hard_ = true;
                hard_error_ = detail::error_of(std::current_exception());
            }
        }
    }

    Client& client_;
    std::string bucket_;
    cleanup_options options_;
    executor_type strand_;
    timer_type wake_{strand_};
    cleanup_result result_;
    std::map<std::uint64_t, std::unique_ptr<asio::cancellation_signal>> signals_;
    std::deque<std::pair<std::uint64_t, cleanup_entry>> finished_;
    std::uint64_t next_id_ = 0;
    unsigned in_flight_ = 0;
    std::error_code first_abort_error_;
    bool failed_hard_ = false; // on_upload threw: stop
    std::error_code hard_error_;
};

} // namespace detail

/// Aborts every in-progress upload of `bucket` (whose key starts with `options.prefix`)
/// initiated before `client.now() - options.older_than`, or in a dry run only reports them.
/// The listing follows the markers page by page (an upload aborted meanwhile cannot make it
/// skip another); each page's due uploads are aborted with at most `options.parallel` aborts at
/// once, while the listing goes on. Each upload acted on is reported once, when its action is
/// known: to `options.on_upload` and in `result.uploads` (`would_abort`, `aborted`, `gone` for
/// NoSuchUpload: someone else completed or aborted it, not a failure, `failed` with its error).
/// Uploads too recent, or whose `Initiated` does not parse, are only counted (`result.kept`).
/// Each ListMultipartUploads and AbortMultipartUpload request is retried as
/// `client_options::retry` says (the client retries every operation).
///
/// Completion signature: `void(std::error_code, cleanup_result)`; the result always holds
/// what was done. The error is the listing's (`async_list_uploads`' errors, `errc::
/// bad_xml_value` for an endless or inconsistent listing: see `uploads_pager`), else
/// `operation_aborted` on cancellation, or the error an exception of `options.on_upload`
/// stands for, else the first failed abort's (the cleanup goes on after a failed abort;
/// `result.failed` counts them), else none. The handler is called exactly once, after every
/// abort it started has ended.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot stops
/// the listing, starts no further abort and cancels the aborts in flight (reported as `failed`
/// with `operation_aborted`: such an upload may or may not have been aborted); completes with
/// `asio::error::operation_aborted`.
///
/// Threading: runs on a strand of the client's executor; `on_upload` is called on it.
/// Lifetimes: `bucket` and `options` are moved into the operation; `client` must outlive it.
template <class Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, cleanup_result)> Token>
auto async_cleanup_uploads(basic_client<Transport, Credentials>& client, std::string bucket,
                           cleanup_options options, Token&& token) {
    static_assert(std::is_convertible_v<typename Transport::executor_type, asio::any_io_executor>,
                  "ossmp::async_cleanup_uploads needs a transport whose executor converts to "
                  "asio::any_io_executor");
    using cleaner_type = detail::cleaner<basic_client<Transport, Credentials>>;
    return asio::async_initiate<Token, void(std::error_code, cleanup_result)>(
        [&client](auto handler, std::string b, cleanup_options o) {
            auto strand = asio::make_strand(asio::any_io_executor(client.get_executor()));
            auto c = std::make_shared<cleaner_type>(client, std::move(b), std::move(o), strand);
            auto slot = asio::get_associated_cancellation_slot(handler);
            auto ex = asio::get_associated_executor(handler, client.get_executor());
            asio::co_spawn(
                strand, [c]() { return c->run(); },
                asio::bind_cancellation_slot(
                    slot, asio::bind_executor(
                              ex, [h = std::move(handler),
                                   c](std::exception_ptr e,
                                      std::pair<std::error_code, cleanup_result> r) mutable {
                                  if (e && !r.first)
                                      r.first = make_error_code(errc::invalid_argument);
                                  std::move(h)(r.first, std::move(r.second));
                              })));
        },
        token, std::move(bucket), std::move(options));
}

} // namespace ossmp
