package io.edgefleet.agent.coap;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.serving.Failure;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;

/**
 * The agent's CoAP side (Californium): {@code POST /infer/{model}} with a v2 request as JSON
 * (content format 50) or CBOR (60, tensors as RFC 8746 typed arrays: {@link CborInference}), in one
 * datagram up to {@link CoapTransfer#maxAcceptedPayloadBytes()} or block-wise (RFC 7959), answered in
 * the same format; a larger single datagram gets 4.13 with Size1 and Block1;
 * {@code GET /models}, observable, notified on every activation; {@code GET /health}. Bad requests
 * get a 4.xx code with a plain-text diagnostic payload; the status mapping is {@link Failure}'s.
 *
 * <p>Inference runs on virtual threads, never on Californium's protocol threads; the native work
 * itself is on {@link InferenceService}'s platform threads.
 */
public final class CoapApi implements AutoCloseable {
    private final CoapServer server;
    private final CoapEndpoint endpoint;
    private final ModelsResource models;
    private final ExecutorService workers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("coap-infer-", 0).factory());

    static {
        CoapConfig.register();
        UdpConfig.register();
    }

    private static boolean dtlsRegistered;

    /**
     * Scandium's configuration module, only when DTLS is asked for: registering it initialises
     * the JCE providers (EC, PKCS), a third of a second of a plain agent's start on a busy device.
     */
    private static synchronized void registerDtls() {
        if (!dtlsRegistered) {
            org.eclipse.californium.scandium.config.DtlsConfig.register();
            dtlsRegistered = true;
        }
    }

    /** Unfinished block-wise uploads may together reserve this many maximum bodies (Block1Budget); beyond: 4.13. */
    static final int BLOCK1_BUDGET_BODIES = 4;
    /** A block-wise transfer without a block for this long is dropped (RFC 7959 leaves it to the server). */
    static final long BLOCK1_LIFETIME_MS = 30_000;

    /** Plain CoAP (UDP, no DTLS). */
    public CoapApi(String host, int port, int maxBodyBytes, InferenceService inference, ModelSlots slots, OipCodec oip,
            io.edgefleet.agent.health.ListenerHealth health) {
        this(host, port, maxBodyBytes, Optional.empty(), CoapTransfer.defaults(), inference, slots, oip, health);
    }

    /**
     * @param dtls present: only CoAP over DTLS ({@code coaps://}) on {@code port}, clients authenticated by
     *     certificate or PSK as {@link CoapDtls} says; empty: plain CoAP
     * @param maxBodyBytes the largest request body, block-wise (4.13 with Size1 beyond, RFC 7959 section 2.9.3)
     * @param transfer datagram and block sizes; over DTLS its datagram must fit one record
     * @throws IllegalArgumentException when {@code transfer} does not fit DTLS
     */
    public CoapApi(String host, int port, int maxBodyBytes, Optional<CoapDtls> dtls, CoapTransfer transfer, InferenceService inference,
            ModelSlots slots, OipCodec oip, io.edgefleet.agent.health.ListenerHealth health) {
        if (dtls.isPresent()) {
            transfer.requireDtlsFit();
            registerDtls(); // before the configuration is made: it takes the modules registered by then
        }
        Configuration config = Configuration.createStandardWithoutFile();
        config.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, maxBodyBytes);
        config.set(CoapConfig.PREFERRED_BLOCK_SIZE, transfer.blockSizeBytes());
        config.set(CoapConfig.MAX_MESSAGE_SIZE, transfer.maxMessageBytes());
        // Californium's default receive buffer is 2048 bytes and a longer datagram is dropped without a word
        // (issue 19: a 2.5 KB request went unanswered). Read every datagram UDP can carry, so that one over
        // max-message-bytes gets 4.13 instead of silence.
        config.set(UdpConfig.UDP_DATAGRAM_SIZE, CoapTransfer.RECEIVE_DATAGRAM_BYTES);
        // Unfinished Block1 uploads hold whole-body buffers: a budget of BLOCK1_BUDGET_BODIES bodies, reservations
        // ending with the last block or BLOCK1_LIFETIME_MS without one (Block1Budget)
        config.set(CoapConfig.BLOCKWISE_STATUS_LIFETIME, BLOCK1_LIFETIME_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        InetSocketAddress address = new InetSocketAddress(host, port);
        CoapEndpoint.Builder eb = new CoapEndpoint.Builder().setConfiguration(config)
                .setOptionRegistry(new org.eclipse.californium.core.coap.option.MapBasedOptionRegistry(
                        org.eclipse.californium.core.coap.option.StandardOptionRegistry.getDefaultOptionRegistry(), TRACEPARENT));
        if (dtls.isPresent()) {
            eb.setConnector(new org.eclipse.californium.scandium.DTLSConnector(dtls.get().connectorConfig(config, address)));
        } else {
            eb.setInetSocketAddress(address);
        }
        this.endpoint = eb.build();
        endpoint.addInterceptor(new Block1Budget(maxBodyBytes, (long) BLOCK1_BUDGET_BODIES * maxBodyBytes, BLOCK1_LIFETIME_MS));
        this.server = new CoapServer(config);
        server.addEndpoint(endpoint);
        this.models = new ModelsResource(slots);
        this.infer = new InferResource(inference, oip, workers, transfer, maxBodyBytes);
        server.add(infer, models, new HealthResource(slots, health));
        slots.onActivation((model, version) -> models.changed());
    }

    /**
     * Binds the UDP port and starts serving.
     *
     * @throws java.io.UncheckedIOException when the port cannot be bound (its cause is the bind failure)
     */
    public void start() {
        // Californium's start() logs a bind failure with its stack trace and goes on without the
        // endpoint: try the port first, then check that the endpoint did start.
        InetSocketAddress address = endpoint.getAddress();
        if (address.getPort() != 0) {
            try (java.net.DatagramSocket probe = new java.net.DatagramSocket(null)) {
                probe.bind(address);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        server.start();
        if (!endpoint.isStarted()) {
            throw new java.io.UncheckedIOException(new java.net.BindException("the endpoint did not start"));
        }
    }

    /** The UDP port, once started. */
    public int port() {
        return endpoint.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop();
        server.destroy();
        workers.shutdown();
    }

    /**
     * The CoAP option carrying a W3C {@code traceparent} (its text, as in HTTP): number
     * {@value #TRACEPARENT_OPTION}, from the range RFC 7252 section 12.2 sets aside for experimental
     * use (65000-65535, never registered), chosen elective (even: a server that does not know it
     * ignores it), safe to forward and NoCacheKey ({@code (number & 0x1e) == 0x1c}, RFC 7252 section 5.4.6),
     * so a proxy passes it on and caches across it.
     */
    public static final int TRACEPARENT_OPTION = 65020;
    /** Californium's definition of {@link #TRACEPARENT_OPTION}: a string, one value. */
    public static final org.eclipse.californium.core.coap.option.StringOptionDefinition TRACEPARENT =
            new org.eclipse.californium.core.coap.option.StringOptionDefinition(TRACEPARENT_OPTION, "traceparent");

    private final InferResource infer;

    /**
     * Traces inference requests: a server span per request, a child of its
     * {@link #TRACEPARENT_OPTION traceparent option} when it carries one, current while it is
     * answered (decode, queue and engine spans inside). Off by default; call before {@link #start}.
     */
    public void useTracing(io.edgefleet.transport.tracing.Tracing t) {
        infer.tracing = java.util.Objects.requireNonNull(t);
    }

    /** {@code /infer}; each child name is a model, resolved at request time. */
    static final class InferResource extends CoapResource {
        private final InferenceService inference;
        private final OipCodec oip;
        private final ExecutorService workers;
        private volatile CborInference cbor; // built by the first CBOR request: Jackson stays off an idle agent's heap
        private final CoapTransfer transfer;
        private final int maxBodyBytes;
        volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

        InferResource(InferenceService inference, OipCodec oip, ExecutorService workers, CoapTransfer transfer, int maxBodyBytes) {
            super(CoapResources.INFER);
            this.inference = inference;
            this.oip = oip;
            this.workers = workers;
            this.transfer = transfer;
            this.maxBodyBytes = maxBodyBytes;
        }

        private CborInference cbor() {
            CborInference c = cbor;
            if (c == null) {
                synchronized (this) {
                    c = cbor;
                    if (c == null) {
                        c = new CborInference(oip, oip.limits());
                        cbor = c;
                    }
                }
            }
            return c;
        }

        @Override
        public Resource getChild(String name) {
            return new ModelInfer(name);
        }

        private final class ModelInfer extends CoapResource {
            ModelInfer(String model) {
                super(model);
                setParent(InferResource.this);
            }

            @Override
            public void handlePOST(CoapExchange ex) {
                if (tooLargeForOneDatagram(ex)) {
                    inference.refused(getName(), Optional.empty(), io.edgefleet.protocols.messages.ClientErrorKind.PAYLOAD_TOO_LARGE);
                    return;
                }
                workers.submit(() -> infer(ex, getName()));
            }

            /** Inference is a POST; a GET (a browser, a mistyped client) learns how to ask (was a bare 4.05). */
            @Override
            public void handleGET(CoapExchange ex) {
                ex.respond(ResponseCode.METHOD_NOT_ALLOWED, "POST a KServe v2 inference request to /infer/" + getName()
                        + " (JSON, content format 50, or CBOR, 60); the models: GET /models");
            }
        }

        /**
         * A request that came in one datagram with more than max-message-bytes: 4.13 with Size1 (the largest body
         * taken block-wise) and Block1 (the block size to use), RFC 7959 section 2.9.3; a Californium client then
         * sends it again block-wise by itself. Block-wise requests arrive here assembled, with the last block to acknowledge set.
         */
        private boolean tooLargeForOneDatagram(CoapExchange ex) {
            int size = ex.advanced().getRequest().getPayloadSize();
            if (size <= transfer.maxAcceptedPayloadBytes() || ex.advanced().getBlock1ToAck() != null) {
                return false;
            }
            org.eclipse.californium.core.coap.Response r = new org.eclipse.californium.core.coap.Response(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
            r.getOptions().setSize1(maxBodyBytes);
            r.getOptions().setBlock1(transfer.szx(), false, 0);
            r.getOptions().setContentFormat(CoapResources.FORMAT_TEXT);
            r.setPayload("a single datagram carries at most " + transfer.maxAcceptedPayloadBytes() + " bytes of payload, this one " + size
                    + ": send it block-wise (Block1, blocks of " + transfer.blockSizeBytes() + ")");
            ex.respond(r);
            return true;
        }

        private void infer(CoapExchange ex, String model) {
            io.edgefleet.transport.tracing.Tracing t = tracing;
            if (!t.on()) {
                untraced(ex, model);
                return;
            }
            org.eclipse.californium.core.coap.Option tp = ex.getRequestOptions().getOtherOption(TRACEPARENT);
            io.opentelemetry.context.Context parent = tp == null ? io.opentelemetry.context.Context.root()
                    : t.extract(tp.getStringValue(), new io.opentelemetry.context.propagation.TextMapGetter<String>() {
                        @Override
                        public Iterable<String> keys(String c) {
                            return java.util.List.of("traceparent");
                        }

                        @Override
                        public String get(String c, String key) {
                            return "traceparent".equals(key) ? c : null;
                        }
                    });
            io.opentelemetry.api.trace.Span span = t.span("POST /infer/{model}", io.opentelemetry.api.trace.SpanKind.SERVER, parent)
                    .setAttribute("network.protocol.name", "coap")
                    .setAttribute("url.path", "/infer/" + model)
                    .setAttribute("edgefleet.model", model)
                    .startSpan();
            try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
                untraced(ex, model);
            } finally {
                span.end();
            }
        }

        /**
         * Answers in CBOR (the outputs {@code typed} names as RFC 8746 typed arrays, others as arrays of numbers)
         * or in JSON (every output as numbers: a CoAP JSON answer has no binary tail).
         */
        private void respond(CoapExchange ex, InferResponse response, boolean asCbor, java.util.function.Predicate<String> typed) {
            if (asCbor) {
                ex.respond(ResponseCode.CONTENT, cbor().encode(response, typed), CoapResources.FORMAT_CBOR);
            } else {
                ex.respond(ResponseCode.CONTENT, oip.encodeResponse(response, n -> false).body(), CoapResources.FORMAT_JSON);
            }
        }

        private void untraced(CoapExchange ex, String model) {
            int format = ex.getRequestOptions().getContentFormat();
            boolean isCbor = format == CoapResources.FORMAT_CBOR;
            if (format != CoapResources.FORMAT_JSON && format != CoapResources.FORMAT_CBOR && format != -1) {
                inference.refused(model, Optional.empty(), io.edgefleet.protocols.messages.ClientErrorKind.UNSUPPORTED_MEDIA_TYPE);
                ex.respond(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, "content format " + format + " is not supported: send JSON (50) or CBOR (60)");
                return;
            }
            // RFC 7252 section 5.10.4: the answer is in the Accept option's format, or 4.06 when that cannot be
            // sent; without Accept, in the request's format
            int accept = ex.getRequestOptions().getAccept();
            if (accept != -1 && accept != CoapResources.FORMAT_JSON && accept != CoapResources.FORMAT_CBOR) {
                inference.refused(model, Optional.empty(), io.edgefleet.protocols.messages.ClientErrorKind.UNSUPPORTED_MEDIA_TYPE);
                ex.respond(ResponseCode.NOT_ACCEPTABLE, "cannot answer in content format " + accept + ": accept JSON (50) or CBOR (60)");
                return;
            }
            boolean answerCbor = accept == -1 ? isCbor : accept == CoapResources.FORMAT_CBOR;
            try {
                byte[] body = ex.getRequestPayload();
                if (isCbor) {
                    CborInference.Decoded d = tracing.on() ? tracing.within("decode", () -> cbor().decode(body)) : cbor().decode(body);
                    InferResponse response = inference.infer(model, Optional.empty(), d.request());
                    respond(ex, response, answerCbor, n -> d.binary() || d.request().wantsBinary(n));
                    return;
                }
                InferRequest request = tracing.on() ? tracing.within("decode", () -> oip.decodeRequest(body, OptionalInt.empty()))
                        : oip.decodeRequest(body, OptionalInt.empty());
                InferResponse response = inference.infer(model, Optional.empty(), request);
                respond(ex, response, answerCbor, request::wantsBinary);
            } catch (java.io.UncheckedIOException e) {
                ex.respond(ResponseCode.INTERNAL_SERVER_ERROR, "internal error");
            } catch (RuntimeException e) {
                Failure f = Failure.of(e);
                inference.refused(model, Optional.empty(), e, f.status());
                if (f.retryable()) {
                    ex.setMaxAge(1);
                }
                ex.respond(code(f.status()), f.message());
            }
        }
    }

    /** Serves the A/B feedback call as {@code POST /feedback/{model}} ({@link FeedbackResource}); call before the server starts. */
    public void feedback(io.edgefleet.agent.split.SplitRouter splits) {
        server.add(new FeedbackResource(splits));
    }

    static ResponseCode code(int status) {
        return switch (status) {
            case 400 -> ResponseCode.BAD_REQUEST;
            case 404 -> ResponseCode.NOT_FOUND;
            case 413 -> ResponseCode.REQUEST_ENTITY_TOO_LARGE;
            case 429 -> ResponseCode.TOO_MANY_REQUESTS;
            case 503 -> ResponseCode.SERVICE_UNAVAILABLE;
            default -> ResponseCode.INTERNAL_SERVER_ERROR;
        };
    }

    /** Jackson's JSON mapper, built when the first CoAP request needs it (class initialisation: once, thread-safe). */
    private static final class Mappers {
        static final ObjectMapper JSON = Json.jsonMapper(DecodeLimits.DEFAULT);
    }

    /** {@code /models}: the active version of every model; observable. */

    static final class ModelsResource extends CoapResource {
        private final ModelSlots slots;

        ModelsResource(ModelSlots slots) {
            super(CoapResources.MODELS);
            this.slots = slots;
            setObservable(true);
            getAttributes().setObservable();
        }

        @Override
        public void handleGET(CoapExchange ex) {
            try {
                ex.respond(ResponseCode.CONTENT, Mappers.JSON.writeValueAsBytes(Map.of("models", slots.activeVersions())), CoapResources.FORMAT_JSON);
            } catch (IOException e) {
                ex.respond(ResponseCode.INTERNAL_SERVER_ERROR, "internal error");
            }
        }
    }

    /**
     * {@code /health}: 2.05 {@code {"status":"UP","models":N,"notReady":[]}} while models are served and every
     * listener is alive; 5.03 with {@code "NO_MODELS"}, or {@code "DOWN"} and the broken parts
     * ({@code "problems":{"http":"the HTTP listener has stopped"}}); {@code notReady} names the
     * models whose file was refused at startup (ids: no quoting needed).
     */
    static final class HealthResource extends CoapResource {
        private final ModelSlots slots;
        private final io.edgefleet.agent.health.ListenerHealth health;

        HealthResource(ModelSlots slots, io.edgefleet.agent.health.ListenerHealth health) {
            super(CoapResources.HEALTH);
            this.slots = slots;
            this.health = health;
        }

        @Override
        public void handleGET(CoapExchange ex) {
            int n = slots.activeVersions().size();
            java.util.Map<String, String> problems = health.problems();
            String status = !problems.isEmpty() ? "DOWN" : n > 0 ? "UP" : "NO_MODELS";
            StringBuilder body = new StringBuilder("{\"status\":\"").append(status).append("\",\"models\":").append(n);
            if (!problems.isEmpty()) {
                body.append(",\"problems\":{");
                String sep = "";
                for (var e : problems.entrySet()) {
                    body.append(sep).append('"').append(e.getKey()).append("\":\"").append(e.getValue().replace("\"", "'")).append('"');
                    sep = ",";
                }
                body.append('}');
            }
            String notReady = String.join("\",\"", slots.notReady().keySet());
            body.append(",\"notReady\":[").append(notReady.isEmpty() ? "" : "\"" + notReady + "\"").append("]}");
            ex.respond(status.equals("UP") ? ResponseCode.CONTENT : ResponseCode.SERVICE_UNAVAILABLE,
                    body.toString().getBytes(StandardCharsets.UTF_8), CoapResources.FORMAT_JSON);
        }
    }
}
