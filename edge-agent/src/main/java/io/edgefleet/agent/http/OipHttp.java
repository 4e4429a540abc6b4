package io.edgefleet.agent.http;

import io.edgefleet.agent.serving.Failure;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.Lease;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.ModelMetadata;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.ServerMetadata;
import io.edgefleet.protocols.oip.TensorMetadata;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The Open Inference Protocol v2 (KServe v2 / Triton) over HTTP: health, server and model
 * metadata, readiness, and inference with JSON or the binary tensor extension, for the agent
 * (and, later, the cloud inference role). Errors are the protocol's {@code {"error": "..."}} with
 * 400 for bad input (including an empty batch, dimensions that disagree, a request over the
 * engine's memory bound, or a shape the runtime refuses), 404 for an unknown model or version, 413
 * for an oversize body, 429/503 with {@code Retry-After} when overloaded, 500 when the runtime
 * fails; no error body carries a runtime's own text. Handlers run on Helidon's
 * virtual threads and hand the native work to {@link InferenceService}.
 */
public final class OipHttp {
    private static final String JSON = "application/json";

    private final InferenceService inference;
    private final ModelSlots slots;
    private final OipCodec codec;
    private final String serverName;
    private final String serverVersion;
    private final BooleanSupplier ready;
    private final io.edgefleet.transport.net.ClientFailureLog clientFailures;

    private final int maxPayloadBytes;
    private volatile io.edgefleet.agent.split.SplitRouter splits;

    /** Serves the feedback call of A/B experiments ({@code POST /v2/models/{m}/feedback}, docs/ab.md) through {@code s}. */
    public void feedback(io.edgefleet.agent.split.SplitRouter s) {
        this.splits = java.util.Objects.requireNonNull(s);
    }
    private volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

    /**
     * Traces inference requests: a server span per request (a child of the caller's W3C
     * {@code traceparent} header when it sends one), current while the request is decoded and
     * answered, with a {@code decode} span inside. Off by default; call before the server starts.
     */
    public void useTracing(io.edgefleet.transport.tracing.Tracing t) {
        this.tracing = java.util.Objects.requireNonNull(t);
    }

    /** Reads W3C trace context fields from Helidon's request headers. */
    private static final io.opentelemetry.context.propagation.TextMapGetter<io.helidon.http.Headers> HEADERS = new io.opentelemetry.context.propagation.TextMapGetter<>() {
        @Override
        public Iterable<String> keys(io.helidon.http.Headers h) {
            return h.stream().map(x -> x.name()).toList();
        }

        @Override
        public String get(io.helidon.http.Headers h, String key) {
            return h == null ? null : h.first(HeaderNames.create(key)).orElse(null);
        }
    };

    /**
     * @param maxPayloadBytes the largest request body, bytes; a larger one is answered 413 with a
     *     problem body before it is buffered (the listener's own limit sits just above, as a backstop)
     */
    public OipHttp(InferenceService inference, ModelSlots slots, OipCodec codec, String serverName, String serverVersion,
            BooleanSupplier ready, io.edgefleet.transport.net.ClientFailureLog clientFailures, int maxPayloadBytes) {
        this.maxPayloadBytes = maxPayloadBytes;
        this.clientFailures = clientFailures;
        this.inference = inference;
        this.slots = slots;
        this.codec = codec;
        this.serverName = serverName;
        this.serverVersion = serverVersion;
        this.ready = ready;
    }

    /** Writes the protocol's {@code {"error": message}} with {@code status}. */
    @FunctionalInterface
    interface Errors {
        void send(ServerResponse res, Status status, String message);
    }

    /**
     * Registers the v2 routes: inference, metadata and health, the model repository and statistics
     * extensions ({@link RepositoryHttp}), and last the answer to what none of them takes (404, or
     * 405 with {@code Allow}, both with the protocol's JSON error body; {@link V2Routes}).
     */
    public void routing(HttpRouting.Builder routing) {
        V2Routes r = new V2Routes(routing);
        r.route(Method.GET, "/v2", (req, res) -> json(res, Status.OK_200,
                codec.encodeServerMetadata(new ServerMetadata(serverName, serverVersion, List.of("binary_tensor_data", "model_repository",
                        "statistics")))));
        r.route(Method.GET, "/v2/health/live", (req, res) -> res.status(Status.OK_200).send());
        r.route(Method.GET, "/v2/health/ready", (req, res) -> {
            if (ready.getAsBoolean()) {
                res.status(Status.OK_200).send();
            } else {
                error(res, Status.SERVICE_UNAVAILABLE_503, "the agent is starting");
            }
        });
        new RepositoryHttp(slots, inference, this::error).routing(r); // its /v2/models/stats before /v2/models/{m}
        r.route(Method.GET, "/v2/models/{m}", (req, res) -> handle(res, () -> metadata(res, param(req, "m"), Optional.empty())));
        r.route(Method.GET, "/v2/models/{m}/versions/{v}", (req, res) -> handle(res, () -> metadata(res, param(req, "m"),
                Optional.of(param(req, "v")))));
        r.route(Method.GET, "/v2/models/{m}/ready", (req, res) -> handle(res, () -> modelReady(res, param(req, "m"), Optional.empty())));
        r.route(Method.GET, "/v2/models/{m}/versions/{v}/ready", (req, res) -> handle(res, () -> modelReady(res, param(req, "m"),
                Optional.of(param(req, "v")))));
        r.route(Method.POST, "/v2/models/{m}/infer", (req, res) -> infer(req, res, param(req, "m"), Optional.empty()));
        r.route(Method.POST, "/v2/models/{m}/versions/{v}/infer", (req, res) -> infer(req, res, param(req, "m"),
                Optional.of(param(req, "v"))));
        r.route(Method.POST, "/v2/models/{m}/feedback", (req, res) -> feedback(req, res, param(req, "m")));
        r.fallback((res, e) -> error(res, e.status(), e.message()));
    }

    /**
     * The feedback call of A/B experiments (docs/ab.md "Feedback and accuracy"): 202 without a body when counted; else an
     * RFC 9457 problem ({@code application/problem+json}, with the protocol's {@code error} member too): 400 malformed,
     * 404 unknown model or request id, 409 already labelled, 413 over {@link io.edgefleet.agent.split.Feedback#MAX_BODY_BYTES}.
     * Never counted as a request or a model error.
     */
    private void feedback(ServerRequest req, ServerResponse res, String model) {
        io.edgefleet.agent.split.SplitRouter s = splits;
        try {
            if (s == null) {
                throw new io.edgefleet.agent.split.FeedbackException(404, "Unknown model", "this server runs no A/B experiments");
            }
            byte[] body;
            try {
                body = io.edgefleet.http.limits.BoundedBody.read(req, io.edgefleet.agent.split.Feedback.MAX_BODY_BYTES);
            } catch (RuntimeException e) {
                if (readFailure(res, e).isPresent()) {
                    return;
                }
                throw e;
            }
            s.feedback(model, io.edgefleet.agent.split.Feedback.parse(body));
            res.status(Status.ACCEPTED_202).send();
        } catch (io.edgefleet.agent.split.FeedbackException e) {
            Map<String, Object> p = new java.util.LinkedHashMap<>();
            p.put("type", "about:blank");
            p.put("title", e.title());
            p.put("status", e.status());
            p.put("detail", e.getMessage());
            p.put("error", e.getMessage());
            try {
                res.status(Status.create(e.status())).header(HeaderNames.CONTENT_TYPE, "application/problem+json")
                        .send(PROBLEM.writeValueAsBytes(p));
            } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
                throw new IllegalStateException(x);
            }
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper PROBLEM = new com.fasterxml.jackson.databind.ObjectMapper();

    private static String param(ServerRequest req, String name) {
        return req.path().pathParameters().get(name);
    }

    private void metadata(ServerResponse res, String model, Optional<String> version) {
        try (Lease lease = slots.lease(model, version)) {
            ModelSignature s = lease.model().signature();
            ModelMetadata m = new ModelMetadata(model, List.of(lease.version()),
                    s.runtime().equals("tflite") ? "tensorflow_tflite" : "onnxruntime_onnx", meta(s.inputs()), meta(s.outputs()));
            json(res, Status.OK_200, codec.encodeModelMetadata(m));
        }
    }

    private static List<TensorMetadata> meta(List<TensorSpec> specs) {
        return specs.stream().map(t -> new TensorMetadata(t.name(), t.datatype(),
                t.shape().stream().mapToLong(Long::longValue).toArray())).toList();
    }

    private void modelReady(ServerResponse res, String model, Optional<String> version) {
        try (Lease lease = slots.lease(model, version)) {
            res.status(Status.OK_200).send();
        }
    }

    /** Answers an inference request; a failure is answered by {@link Failure} and, when it is the client's, counted as such. */
    private void infer(ServerRequest req, ServerResponse res, String model, Optional<String> version) {
        io.edgefleet.transport.tracing.Tracing t = tracing;
        if (!t.on()) {
            untraced(req, res, model, version);
            return;
        }
        String route = version.isPresent() ? "/v2/models/{m}/versions/{v}/infer" : "/v2/models/{m}/infer";
        io.opentelemetry.api.trace.Span span = t.span("POST " + route, io.opentelemetry.api.trace.SpanKind.SERVER, t.extract(req.headers(), HEADERS))
                .setAttribute("http.request.method", "POST")
                .setAttribute("http.route", route)
                .setAttribute("url.path", req.path().rawPath())
                .setAttribute("url.scheme", req.isSecure() ? "https" : "http")
                .setAttribute("edgefleet.model", model)
                .startSpan();
        try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
            untraced(req, res, model, version);
        } finally {
            int status = res.status().code();
            span.setAttribute("http.response.status_code", status);
            if (status >= 500) { // semantic conventions: a server span fails on 5xx only
                span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
                span.setAttribute("error.type", Integer.toString(status));
            }
            span.end();
        }
    }

    private void untraced(ServerRequest req, ServerResponse res, String model, Optional<String> version) {
        try {
            answer(req, res, model, version);
        } catch (RuntimeException e) {
            java.util.OptionalInt read = readFailure(res, e);
            if (read.isPresent()) {
                inference.refused(model, version, e, read.getAsInt());
                return;
            }
            Failure f = Failure.of(e);
            inference.refused(model, version, e, f.status());
            fail(res, f);
        }
    }

    private void answer(ServerRequest req, ServerResponse res, String model, Optional<String> version) {
        InferRequest request = tracing.on() ? tracing.within("decode", () -> decode(req)) : decode(req);
        InferResponse response = inference.infer(model, version, request);
        Encoded e = codec.encodeResponse(response, request::wantsBinary);
        if (e.headerLength().isPresent()) {
            res.header(OipCodec.HEADER_CONTENT_LENGTH, Integer.toString(e.headerLength().getAsInt()));
        }
        res.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, e.contentType()).send(e.body());
    }

    private static final io.helidon.http.HeaderName SPLIT_KEY = HeaderNames.create(io.edgefleet.agent.split.SplitRouter.KEY_HEADER);

    /** The request, with the {@code edgefleet-split-key} header as its split key parameter unless it has one (the parameter wins). */
    private InferRequest decode(ServerRequest req) {
        byte[] body = io.edgefleet.http.limits.BoundedBody.read(req, maxPayloadBytes);
        InferRequest r = codec.decodeRequest(body,
                OipCodec.parseHeaderLength(req.headers().first(HeaderNames.create(OipCodec.HEADER_CONTENT_LENGTH)).orElse(null)));
        return io.edgefleet.agent.split.SplitRouter.withKey(r, req.headers().first(SPLIT_KEY));
    }

    private interface Action {
        void run();
    }

    /** Maps each failure to its status ({@link Failure}); internal exception text never reaches the client. */
    private void handle(ServerResponse res, Action action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            if (readFailure(res, e).isPresent()) {
                return;
            }
            fail(res, Failure.of(e));
        }
    }

    /**
     * A failure of the client while its body was read (oversize, malformed chunking, gone mid-body):
     * one rate-limited log line, no stack trace; answered 413/400, or the connection closed when the
     * client is gone. Returns the status (for the client-error count), or empty when it is not one.
     */
    private java.util.OptionalInt readFailure(ServerResponse res, RuntimeException e) {
        var client = io.edgefleet.http.limits.ClientErrors.of(e);
        if (client.isEmpty()) {
            return java.util.OptionalInt.empty();
        }
        clientFailures.log(client.get().kind(), client.get().message());
        if (client.get().gone()) {
            throw new io.helidon.webserver.CloseConnectionException(client.get().kind());
        }
        res.header(io.helidon.http.HeaderValues.CONNECTION_CLOSE); // the rest of an oversize or garbled body is not worth reading
        error(res, Status.create(client.get().status()), client.get().message());
        return java.util.OptionalInt.of(client.get().status());
    }

    private void fail(ServerResponse res, Failure f) {
        if (f.retryable()) {
            res.header(HeaderNames.RETRY_AFTER, "1");
        }
        error(res, Status.create(f.status()), f.message());
    }

    private void error(ServerResponse res, Status status, String message) {
        json(res, status, codec.encodeError(message));
    }

    private static void json(ServerResponse res, Status status, byte[] body) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, JSON).send(body);
    }
}
