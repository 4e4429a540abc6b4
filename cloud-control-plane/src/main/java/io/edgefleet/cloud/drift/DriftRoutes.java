package io.edgefleet.cloud.drift;

import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.api.ApiException;
import io.edgefleet.cloud.api.ApiRoutes;
import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.drift.DriftStats;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.OipCodec;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Drift in the API, registered through {@link ApiRoutes#register} (authentication, scope, problem JSON, audit):
 * <ul>
 * <li>{@code POST /api/v1/models/{m}/versions/{v}/drift/reference} ({@code models:write}): the operator's sample set, an
 *     Open Inference Protocol request body (JSON, or the binary tensor extension with {@code Inference-Header-Content-Length})
 *     whose inputs hold the samples stacked on axis 0 ({@link ReferenceSamples}); replaces any reference; 201 with the
 *     reference's summary. 400 for a set that does not fit the signature, has non-finite values or too few samples; 404
 *     for an unknown version; 413 past {@code max-upload-bytes};</li>
 * <li>{@code GET} of the same path ({@code models:read}): the reference with its bins, 404 when there is none; {@code DELETE}
 *     ({@code models:write}): forget it (a new one is learned from traffic), 204;</li>
 * <li>{@code GET /api/v1/models/{m}/versions/{v}/drift?windows=N} ({@code models:read}): the version's drift state: the
 *     reference's summary, whether it is in alarm, the settings, and the last N judged windows (default 20, 1..1000),
 *     newest first. Reads name any model version, registered or not (agents may serve a local models folder);</li>
 * <li>{@code GET /api/v1/drift} ({@code models:read}): every version with a reference, its alarm and last window.</li>
 * </ul>
 */
public final class DriftRoutes {
    private final DriftMonitor monitor;
    private final ModelRegistry registry;
    private final long maxBodyBytes;
    private final OipCodec oip = OipCodec.create();

    public DriftRoutes(DriftMonitor monitor, ModelRegistry registry, long maxBodyBytes) {
        this.monitor = monitor;
        this.registry = registry;
        this.maxBodyBytes = Math.min(maxBodyBytes, MAX_SAMPLE_SET_BYTES); // buffered whole: never up to the 1 GiB model upload limit
    }

    /** Registers the routes on {@code api}; call before {@link ApiRoutes#routing} (its catch-all answers 404). */
    public void routing(HttpRouting.Builder r, ApiRoutes api) {
        String ref = "/api/v1/models/{m}/versions/{v}/drift/reference";
        api.register(r, Method.POST, ref, Scope.MODELS_WRITE, (q, s, who) -> {
            ModelVersion mv = version(q);
            byte[] body = body(q);
            if (body.length == 0) {
                throw new ApiException(400, "Empty sample set", "the body must be an inference request whose inputs hold the samples");
            }
            InferRequest req = oip.decodeRequest(body, q.headers().first(HeaderNames.create(OipCodec.HEADER_CONTENT_LENGTH))
                    .map(OipCodec::parseHeaderLength).orElse(OptionalInt.empty()));
            if (mv.variants().isEmpty()) {
                throw new ApiException(409, "No signature", "version " + mv.version() + " has no variant to read its inputs from");
            }
            DriftStats stats = ReferenceSamples.read(mv.model(), req, mv.variants().get(0).inputs(), monitor.settings().minSamples());
            ReferenceProfile p = ReferenceProfile.of("samples", stats, monitor.settings().bins());
            monitor.setReference(mv.model(), mv.version(), p, who.name());
            send(s, summary(monitor.repository().reference(mv.model(), mv.version()).orElseThrow()), Status.CREATED_201);
        });
        api.register(r, Method.GET, ref, Scope.MODELS_READ, (q, s, who) -> {
            Ids mv = ids(q);
            DriftRepository.StoredReference stored = monitor.repository().reference(mv.model(), mv.version())
                    .orElseThrow(() -> new ApiException(404, "No drift reference", "model " + mv.model() + " version " + mv.version()
                            + " has no reference yet (give a sample set, or wait for " + monitor.settings().referenceWindows() + " windows of traffic)"));
            Map<String, Object> out = summary(stored);
            out.put("inputs", stored.profile().inputs());
            stored.profile().confidence().ifPresent(c -> out.put("confidence", c));
            send(s, out, Status.OK_200);
        });
        api.register(r, Method.DELETE, ref, Scope.MODELS_WRITE, (q, s, who) -> {
            Ids mv = ids(q);
            if (!monitor.deleteReference(mv.model(), mv.version(), who.name())) {
                throw new ApiException(404, "No drift reference", "model " + mv.model() + " version " + mv.version() + " has no reference");
            }
            s.status(Status.NO_CONTENT_204).send();
        });
        api.register(r, Method.GET, "/api/v1/models/{m}/versions/{v}/drift", Scope.MODELS_READ, (q, s, who) -> {
            Ids mv = ids(q);
            int n = windows(q.query().first("windows").asOptional());
            send(s, state(mv.model(), mv.version(), n), Status.OK_200);
        });
        api.register(r, Method.GET, "/api/v1/drift", Scope.MODELS_READ, (q, s, who) -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (List<String> mv : monitor.repository().referenced()) {
                out.add(state(mv.get(0), mv.get(1), 1));
            }
            send(s, Map.of("versions", out), Status.OK_200);
        });
    }

    /** The drift state of a version: what the API answers and what a rollout gate would read. */
    Map<String, Object> state(String model, String version, int windows) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model);
        out.put("version", version);
        Optional<DriftRepository.StoredReference> ref = monitor.repository().reference(model, version);
        out.put("reference", ref.map(this::summary).orElse(null));
        monitor.learningWindows(model, version).ifPresent(w -> out.put("learning_windows", (int) w));
        List<WindowScore> recent = monitor.repository().recent(model, version, windows);
        out.put("alarm", !recent.isEmpty() && recent.get(0).alarm());
        out.put("threshold", monitor.settings().threshold());
        out.put("consecutive_windows", monitor.settings().consecutiveWindows());
        out.put("min_samples", monitor.settings().minSamples());
        // this process's last judged window (in memory): its start says which one, as the newest stored window may be
        // another ingest process's
        monitor.lastWindow(model, version).filter(l -> !l.psi().isEmpty()).ifPresent(l -> {
            out.put("last_window_features", l.psi());
            out.put("last_window_features_start", l.windowStart().toString());
        });
        out.put("windows", recent.stream().map(DriftRoutes::json).toList());
        return out;
    }

    static Map<String, Object> json(WindowScore w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window_start", w.windowStart().toString());
        m.put("samples", w.samples());
        m.put("max_psi", w.maxPsi());
        m.put("mean_psi", w.meanPsi());
        m.put("worst_feature", w.worstFeature());
        m.put("confidence_psi", w.confidencePsi().isPresent() ? w.confidencePsi().getAsDouble() : null);
        m.put("alarm", w.alarm());
        return m;
    }

    private Map<String, Object> summary(DriftRepository.StoredReference r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", r.model());
        m.put("version", r.version());
        m.put("source", r.profile().source());
        m.put("samples", r.profile().samples());
        m.put("created_at", r.createdAt().toString());
        Map<String, Integer> features = new LinkedHashMap<>();
        r.profile().inputs().forEach((k, v) -> features.put(k, v.size()));
        m.put("features", features);
        m.put("has_confidence", r.profile().confidence().isPresent());
        return m;
    }

    /** A model version named in the path; reads do not need it registered (an agent's local models folder is not). */
    private record Ids(String model, String version) {
    }

    private static Ids ids(ServerRequest q) {
        return new Ids(id(q.path().pathParameters().get("m"), "model"), id(q.path().pathParameters().get("v"), "version"));
    }

    private ModelVersion version(ServerRequest q) {
        String m = id(q.path().pathParameters().get("m"), "model");
        String v = id(q.path().pathParameters().get("v"), "version");
        return registry.version(m, v).orElseThrow(() -> new ApiException(404, "Unknown version", "model " + m + " has no version " + v));
    }

    private static String id(String value, String name) {
        try {
            return Checks.id(value, name);
        } catch (RuntimeException e) {
            throw new ApiException(400, "Bad parameter", name + " '" + Checks.printable(String.valueOf(value)) + "': " + Checks.ID_RULE);
        }
    }

    static int windows(Optional<String> v) {
        if (v.isEmpty()) {
            return 20;
        }
        try {
            int n = Integer.parseInt(v.get());
            if (n >= 1 && n <= 1000) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the problem below names the value
        }
        throw new ApiException(400, "Bad parameter", "windows must be an integer in 1..1000, got '" + Checks.printable(v.get()) + "'");
    }

    /**
     * The largest sample set {@code POST …/drift/reference} buffers, in bytes (64 MiB), whatever the upload limit: it is
     * read into memory (a 700 MB body ended the control plane).
     */
    public static final long MAX_SAMPLE_SET_BYTES = 64L << 20;

    private byte[] body(ServerRequest q) throws java.io.IOException {
        java.util.OptionalLong declared = q.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > maxBodyBytes) {
            throw new ApiException(413, "Sample set too large", "the sample set is over " + maxBodyBytes + " bytes");
        }
        try (InputStream in = q.content().inputStream()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
            if (b.length > maxBodyBytes) {
                throw new ApiException(413, "Sample set too large", "the sample set is over " + maxBodyBytes + " bytes");
            }
            return b;
        }
    }

    private static void send(ServerResponse res, Object body, Status status) throws Exception {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/json").send(io.edgefleet.cloud.store.Jdbc.JSON.writeValueAsBytes(body));
    }
}
