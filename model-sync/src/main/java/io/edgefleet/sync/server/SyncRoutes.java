package io.edgefleet.sync.server;

import io.edgefleet.sync.chunks.ChunkStore;
import io.helidon.http.DateTime;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;

/**
 * The HTTP side of model sync, mounted by the control plane: {@code GET /sync/v1/manifests/{name}/{version}}
 * and {@code GET /sync/v1/chunks/{sha256}} with byte ranges per RFC 9110 as {@link RangeRequest}
 * decides (206 with {@code Content-Range}; 200 for an ignored or failed-{@code If-Range} range; 416
 * with {@code Content-Range: bytes *}{@code /LEN} when unsatisfiable; {@code Accept-Ranges: bytes}),
 * the hash as strong ETag and the chunk file's time as {@code Last-Modified} (304 on
 * {@code If-None-Match}) and immutable cache headers. At most {@code maxTransfers}
 * requests run at once; beyond, 503 with {@code Retry-After}.
 *
 * <p>Since sync protocol 1.1 (additive: every 1.0 route answers as before) also
 * {@code GET /sync/v1/variants/{name}/{version}/{variant}}: the variant's file as one representation,
 * the concatenation of its chunks in manifest order, with the same range rules (one range per
 * request; the variant's SHA-256 as strong ETag, the manifest's {@code createdAt} as
 * {@code Last-Modified}), so a device fetches a run of consecutive missing chunks in one request.
 */
public final class SyncRoutes {
    private static final Pattern SHA = Pattern.compile("[0-9a-f]{64}");

    private final ManifestSource manifests;
    private final ChunkStore chunks;
    private final Semaphore transfers;
    private final VariantFiles variants;

    public SyncRoutes(ManifestSource manifests, ChunkStore chunks, int maxTransfers) {
        this.manifests = manifests;
        this.chunks = chunks;
        this.transfers = new Semaphore(maxTransfers);
        this.variants = new VariantFiles(manifests, chunks);
    }

    public void routing(HttpRouting.Builder r) {
        r.get("/sync/v1/manifests/{name}/{version}", (req, res) -> limited(res, () -> manifest(req, res)));
        r.get("/sync/v1/chunks/{sha}", (req, res) -> limited(res, () -> chunk(req, res)));
        r.get("/sync/v1/variants/{name}/{version}/{variant}", (req, res) -> limited(res, () -> variant(req, res)));
    }

    private void limited(ServerResponse res, Runnable work) {
        if (!transfers.tryAcquire()) {
            res.header(HeaderNames.RETRY_AFTER, "1");
            error(res, Status.SERVICE_UNAVAILABLE_503, "too many transfers in progress; retry shortly");
            return;
        }
        try {
            work.run();
        } finally {
            transfers.release();
        }
    }

    private void manifest(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        String version = req.path().pathParameters().get("version");
        Optional<byte[]> m = manifests.manifest(name, version);
        if (m.isEmpty()) {
            error(res, Status.NOT_FOUND_404, "no manifest for model '" + name + "' version '" + version + "'");
            return;
        }
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(m.get());
    }

    private void chunk(ServerRequest req, ServerResponse res) {
        String sha = req.path().pathParameters().get("sha");
        if (!SHA.matcher(sha).matches()) {
            error(res, Status.BAD_REQUEST_400, "'" + sha.substring(0, Math.min(80, sha.length())) + "' is not a SHA-256");
            return;
        }
        Optional<Path> file = chunks.file(sha);
        if (file.isEmpty()) {
            error(res, Status.NOT_FOUND_404, "no chunk " + sha);
            return;
        }
        String etag = "\"" + sha + "\"";
        res.header(HeaderNames.ETAG, etag);
        res.header(HeaderNames.ACCEPT_RANGES, "bytes");
        res.header(HeaderNames.CACHE_CONTROL, "public, max-age=31536000, immutable");
        if (req.headers().first(HeaderNames.IF_NONE_MATCH).filter(v -> noneMatchHits(v, etag)).isPresent()) {
            res.status(Status.NOT_MODIFIED_304).send();
            return;
        }
        byte[] data;
        java.time.Instant modified;
        try {
            data = Files.readAllBytes(file.get());
            modified = Files.getLastModifiedTime(file.get()).toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        res.header(HeaderNames.LAST_MODIFIED, DateTime.RFC_1123_DATE_TIME.format(modified.atZone(java.time.ZoneOffset.UTC)));
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
        Optional<String> range = req.headers().first(HeaderNames.RANGE);
        RangeRequest.Answer answer = RangeRequest.decide(range, req.headers().first(HeaderNames.IF_RANGE), etag, modified, data.length);
        switch (answer) {
            case RangeRequest.Full f -> res.send(data);
            case RangeRequest.Unsatisfiable u -> {
                res.header(HeaderNames.CONTENT_RANGE, "bytes */" + data.length);
                error(res, Status.REQUESTED_RANGE_NOT_SATISFIABLE_416, "range " + range.orElse("") + " is outside the " + data.length
                        + " bytes of chunk " + sha);
            }
            case RangeRequest.Partial p -> {
                res.status(Status.PARTIAL_CONTENT_206);
                res.header(HeaderNames.CONTENT_RANGE, "bytes " + p.first() + "-" + p.last() + "/" + data.length);
                res.send(data, (int) p.first(), (int) p.length());
            }
        }
    }

    private void variant(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        String version = req.path().pathParameters().get("version");
        String id = req.path().pathParameters().get("variant");
        Optional<VariantFiles.Located> found = variants.find(name, version, id);
        if (found.isEmpty()) {
            error(res, Status.NOT_FOUND_404, "no variant '" + id + "' of model '" + name + "' version '" + version + "'");
            return;
        }
        var v = found.get().variant();
        long length = found.get().length();
        String etag = "\"" + v.sha256() + "\"";
        java.time.Instant modified = found.get().manifest().createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        res.header(HeaderNames.ETAG, etag);
        res.header(HeaderNames.ACCEPT_RANGES, "bytes");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache"); // the name may be re-registered; the ETag (the file's hash) revalidates
        if (req.headers().first(HeaderNames.IF_NONE_MATCH).filter(x -> noneMatchHits(x, etag)).isPresent()) {
            res.status(Status.NOT_MODIFIED_304).send();
            return;
        }
        res.header(HeaderNames.LAST_MODIFIED, DateTime.RFC_1123_DATE_TIME.format(modified.atZone(java.time.ZoneOffset.UTC)));
        Optional<String> range = req.headers().first(HeaderNames.RANGE);
        RangeRequest.Answer answer = RangeRequest.decide(range, req.headers().first(HeaderNames.IF_RANGE), etag, modified, length);
        if (answer instanceof RangeRequest.Unsatisfiable) {
            res.header(HeaderNames.CONTENT_RANGE, "bytes */" + length);
            error(res, Status.REQUESTED_RANGE_NOT_SATISFIABLE_416, "range " + range.orElse("") + " is outside the " + length
                    + " bytes of variant " + id);
            return;
        }
        long first = answer instanceof RangeRequest.Partial p ? p.first() : 0;
        long last = answer instanceof RangeRequest.Partial p ? p.last() : length - 1;
        Optional<String> lacking = variants.missing(v, first, last);
        if (lacking.isPresent()) {
            error(res, Status.NOT_FOUND_404, "no chunk " + lacking.get() + " of variant '" + id + "' of " + name + "/" + version);
            return;
        }
        if (answer instanceof RangeRequest.Partial) {
            res.status(Status.PARTIAL_CONTENT_206);
            res.header(HeaderNames.CONTENT_RANGE, "bytes " + first + "-" + last + "/" + length);
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
        res.header(HeaderNames.CONTENT_LENGTH, String.valueOf(last - first + 1));
        try (java.io.OutputStream out = res.outputStream()) {
            variants.write(v, first, last, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code If-None-Match} uses the weak comparison (RFC 9110 §13.1.2): {@code *}, or any listed tag, {@code W/} or not. */
    private static boolean noneMatchHits(String value, String etag) {
        for (String t : value.split(",")) {
            String tag = t.strip();
            if (tag.equals("*") || (tag.startsWith("W/") ? tag.substring(2) : tag).equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static void error(ServerResponse res, Status status, String message) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/problem+json")
                .send(io.edgefleet.protocols.messages.MessageCodec.json().encode(  // Jackson escapes what the detail echoes (paths, Range)
                        new java.util.LinkedHashMap<>(java.util.Map.of("title", status.reasonPhrase(), "status", status.code(), "detail", message))));
    }
}
