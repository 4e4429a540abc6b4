package io.edgefleet.cloud.inference;

import io.edgefleet.engines.EngineBusyException;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.ModelMetadata;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.ServerMetadata;
import io.edgefleet.protocols.oip.TensorMetadata;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Open Inference Protocol v2 on the cloud's {@code inference} role, the same endpoints as the
 * agent's (any v2 client works): JSON and the binary tensor extension; errors as the protocol's
 * {@code {"error": "..."}} with 400 bad input, 404 unknown model or version, 429 queue full (with
 * {@code Retry-After}), 504 deadline passed (not computed, with {@code Retry-After}), 500 runtime failure. Inputs are checked
 * before they are queued ({@link io.edgefleet.engines.InputRules}: an empty batch, dimensions that
 * disagree or a request over the memory bound is a 400); no error body carries a runtime's own
 * text. A request's deadline is its {@code EdgeFleet-Timeout-Ms} header, or the role's default.
 */
public final class InferenceRoutes {
    public static final String TIMEOUT_HEADER = "EdgeFleet-Timeout-Ms";
    private static final String JSON = "application/json";
    private static final System.Logger LOG = System.getLogger(InferenceRoutes.class.getName());

    private final CloudInference inference;
    private final OipCodec codec;
    private final Latency latency;

    /** Receives each answered request's route (its pattern, e.g. {@code /v2/models/{m}/infer}), model and time. */
    @FunctionalInterface
    public interface Latency {
        void record(String route, String model, Duration took);
    }

    /** @param latency receives each answered request's route, model and time (for the per-route, per-model latency metric) */
    public InferenceRoutes(CloudInference inference, OipCodec codec, Latency latency) {
        this.inference = inference;
        this.codec = codec;
        this.latency = latency;
    }

    private volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

    /**
     * Traces each inference request as an HTTP server span, a child of the caller's W3C
     * {@code traceparent} (an agent's escalation), current while it waits for its batch. Off by default.
     */
    public InferenceRoutes useTracing(io.edgefleet.transport.tracing.Tracing t) {
        this.tracing = java.util.Objects.requireNonNull(t);
        return this;
    }

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

    /** Runs {@code a} in a server span for {@code route} when tracing is on. */
    private void traced(ServerRequest req, ServerResponse res, String route, String model, Runnable a) {
        io.edgefleet.transport.tracing.Tracing t = tracing;
        if (!t.on()) {
            a.run();
            return;
        }
        io.opentelemetry.api.trace.Span span = t.span("POST " + route, io.opentelemetry.api.trace.SpanKind.SERVER, t.extract(req.headers(), HEADERS))
                .setAttribute("http.request.method", "POST")
                .setAttribute("http.route", route)
                .setAttribute("url.path", req.path().rawPath())
                .setAttribute("url.scheme", req.isSecure() ? "https" : "http")
                .setAttribute("edgefleet.model", model)
                .startSpan();
        try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
            a.run();
        } finally {
            int status = res.status().code();
            span.setAttribute("http.response.status_code", status);
            if (status >= 500) {
                span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
                span.setAttribute("error.type", Integer.toString(status));
            }
            span.end();
        }
    }

    public void routing(HttpRouting.Builder r) {
        r.get("/v2", (req, res) -> json(res, 200, codec.encodeServerMetadata(new ServerMetadata("edgefleet-cloud",
                io.edgefleet.cloud.ControlPlane.VERSION, List.of("binary_tensor_data")))));
        r.get("/v2/health/live", (req, res) -> res.status(Status.OK_200).send());
        r.get("/v2/health/ready", (req, res) -> res.status(Status.OK_200).send());
        r.get("/v2/models/{m}", (req, res) -> handle(res, () -> metadata(res, p(req, "m"), Optional.empty())));
        r.get("/v2/models/{m}/versions/{v}", (req, res) -> handle(res, () -> metadata(res, p(req, "m"), Optional.of(p(req, "v")))));
        r.get("/v2/models/{m}/ready", (req, res) -> handle(res, () -> {
            inference.served(p(req, "m"), Optional.empty());
            res.status(Status.OK_200).send();
        }));
        r.get("/v2/models/{m}/versions/{v}/ready", (req, res) -> handle(res, () -> {
            inference.served(p(req, "m"), Optional.of(p(req, "v")));
            res.status(Status.OK_200).send();
        }));
        r.post("/v2/models/{m}/infer", (req, res) -> traced(req, res, "/v2/models/{m}/infer", p(req, "m"),
                () -> handle(res, () -> infer(req, res, p(req, "m"), Optional.empty()))));
        r.post("/v2/models/{m}/versions/{v}/infer", (req, res) -> traced(req, res, "/v2/models/{m}/versions/{v}/infer", p(req, "m"),
                () -> handle(res, () -> infer(req, res, p(req, "m"), Optional.of(p(req, "v"))))));
    }

    private static String p(ServerRequest req, String name) {
        return req.path().pathParameters().get(name);
    }

    private void metadata(ServerResponse res, String model, Optional<String> version) {
        CloudInference.Served s = inference.served(model, version);
        ModelSignature sig = s.loaded().signature();
        json(res, 200, codec.encodeModelMetadata(new ModelMetadata(model, List.of(s.version()),
                sig.runtime().equals("tflite") ? "tensorflow_tflite" : "onnxruntime_onnx", meta(sig.inputs()), meta(sig.outputs()))));
    }

    private static List<TensorMetadata> meta(List<TensorSpec> specs) {
        return specs.stream().map(t -> new TensorMetadata(t.name(), t.datatype(), t.shape().stream().mapToLong(Long::longValue).toArray())).toList();
    }

    private void infer(ServerRequest req, ServerResponse res, String model, Optional<String> version) throws Exception {
        long start = System.nanoTime();
        // The listener takes model uploads up to max-upload-bytes; an inference request is bounded by the codec's own limit, before buffering.
        byte[] body = io.edgefleet.http.limits.BoundedBody.read(req, io.edgefleet.protocols.DecodeLimits.DEFAULT.maxMessageBytes());
        InferRequest request = codec.decodeRequest(body,
                OipCodec.parseHeaderLength(req.headers().first(HeaderNames.create(OipCodec.HEADER_CONTENT_LENGTH)).orElse(null)));
        Optional<Duration> deadline = req.headers().first(HeaderNames.create(TIMEOUT_HEADER)).map(v -> {
            try {
                long ms = Long.parseLong(v.strip());
                if (ms < 1) {
                    throw new NumberFormatException();
                }
                return Duration.ofMillis(ms);
            } catch (NumberFormatException e) {
                throw new ProtocolException("$", TIMEOUT_HEADER + " must be a positive number of milliseconds, got '" + v + "'");
            }
        });
        CloudInference.Served s = inference.served(model, version);
        Duration limit = deadline.orElse(inference.batching().defaultDeadline());
        List<InferTensor> outputs;
        try {
            outputs = inference.infer(s, request.inputs(), Optional.of(limit)).get(limit.toNanos() + TimeUnit.SECONDS.toNanos(1),
                    TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new Batcher.DeadlineExceededException("no answer within the request's deadline of " + limit.toMillis() + " ms");
        }
        if (!request.outputs().isEmpty()) {
            List<String> wanted = request.outputs().stream().map(o -> o.name()).toList();
            outputs = outputs.stream().filter(t -> wanted.contains(t.name())).toList();
        }
        InferResponse response = new InferResponse(model, Optional.of(s.version()), request.id(),
                io.edgefleet.protocols.oip.Parameters.of("edgefleet.source", "cloud", "edgefleet.queue_ms", (System.nanoTime() - start) / 1e6),
                outputs);
        Encoded e = codec.encodeResponse(response, request::wantsBinary);
        if (e.headerLength().isPresent()) {
            res.header(OipCodec.HEADER_CONTENT_LENGTH, Integer.toString(e.headerLength().getAsInt()));
        }
        res.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, e.contentType()).send(e.body());
        latency.record(version.isPresent() ? "/v2/models/{m}/versions/{v}/infer" : "/v2/models/{m}/infer", model,
                Duration.ofNanos(System.nanoTime() - start));
    }

    private static final io.edgefleet.transport.net.ClientFailureLog CLIENTS = new io.edgefleet.transport.net.ClientFailureLog(
            "io.edgefleet.cloud.clients");

    private interface Action {
        void run() throws Exception;
    }

    private void handle(ServerResponse res, Action a) {
        try {
            a.run();
        } catch (CloudInference.UnknownModelException e) {
            json(res, 404, codec.encodeError(e.getMessage()));
        } catch (ProtocolException e) {
            json(res, 400, codec.encodeError(e.getMessage()));
        } catch (InvalidInputException e) {
            // The client's mistake; the runtime's own words (when it refused) stay in the log.
            e.runtimeDetail().ifPresent(d -> LOG.log(System.Logger.Level.DEBUG, "{0} (runtime: {1})", e.getMessage(), d));
            json(res, 400, codec.encodeError(e.getMessage()));
        } catch (Batcher.QueueFullException | EngineBusyException e) {
            res.header(HeaderNames.RETRY_AFTER, "1");
            json(res, 429, codec.encodeError(e.getMessage()));
        } catch (CloudInference.ModelUnavailableException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
            json(res, 503, codec.encodeError(e.getMessage()));
        } catch (Batcher.DeadlineExceededException e) {
            res.header(HeaderNames.RETRY_AFTER, "1"); // the queue was too long for the deadline: a later try may fit
            json(res, 504, codec.encodeError(e.getMessage()));
        } catch (InferenceFailedException e) {
            LOG.log(System.Logger.Level.WARNING, "{0} (runtime: {1})", e.getMessage(), e.runtimeDetail().orElse("no detail"));
            json(res, 500, codec.encodeError(e.getMessage()));
        } catch (Exception e) {
            var client = io.edgefleet.http.limits.ClientErrors.of(e);
            if (client.isPresent()) { // the client's failure while its body was read: one line, no stack trace
                CLIENTS.log(client.get().kind(), client.get().message());
                if (client.get().gone()) {
                    throw new io.helidon.webserver.CloseConnectionException(client.get().kind());
                }
                // the rest of an oversize or garbled body is not worth reading: answer, then close
                res.header(io.helidon.http.HeaderValues.CONNECTION_CLOSE);
                json(res, client.get().status(), codec.encodeError(client.get().message()));
                return;
            }
            LOG.log(System.Logger.Level.ERROR, "unexpected failure of an inference request", e);
            json(res, 500, codec.encodeError("internal error"));
        }
    }

    private static void json(ServerResponse res, int status, byte[] body) {
        res.status(Status.create(status)).header(HeaderNames.CONTENT_TYPE, JSON).send(body);
    }
}
