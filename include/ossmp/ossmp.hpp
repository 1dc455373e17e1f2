// ossmp/ossmp.hpp: the umbrella header: every public header of ossmp.
//
// Include this for convenience; include the individual headers to keep compile times down
// (the sans-io core does not need Asio; `client.hpp` and `ops/*.hpp` do).
#pragma once

// Foundations.
#include "ossmp/credentials.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/error.hpp"
#include "ossmp/time.hpp"
#include "ossmp/version.hpp"

// Sans-io core.
#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/file_body.hpp"
#include "ossmp/http/body_source.hpp"
#include "ossmp/http/chars.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/model.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/retry.hpp"
#include "ossmp/signer.hpp"
#include "ossmp/uri.hpp"
#include "ossmp/validate.hpp"
#include "ossmp/xml.hpp"

// Transport.
#include "ossmp/transport.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/transport/asio_transport_options.hpp"

// Client and operations.
#include "ossmp/client.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/delete_object.hpp"
#include "ossmp/ops/get_object.hpp"
#include "ossmp/ops/head_object.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/list_multipart_uploads.hpp"
#include "ossmp/ops/list_parts.hpp"
#include "ossmp/ops/put_object.hpp"
#include "ossmp/ops/upload_part.hpp"

// Composite algorithms.
#include "ossmp/checkpoint.hpp"
#include "ossmp/limits.hpp"
#include "ossmp/paginate.hpp"
#include "ossmp/upload.hpp"
