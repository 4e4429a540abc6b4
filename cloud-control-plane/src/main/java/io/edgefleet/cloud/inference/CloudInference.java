package io.edgefleet.cloud.inference;

import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.sync.client.Assembler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * The {@code inference} role's models: a registered version becomes servable on first use (or
 * at once, when it registers); requests without a version go to the newest non-deprecated
 * version, so registering a new one switches traffic over with no failed request (the old
 * version's batcher keeps answering what it already queued). The cloud runs each version's
 * richest variant: ONNX Runtime before TFLite, fp32 before fp16 before int8, with the CUDA
 * execution provider when the runtime build and a GPU are present, else CPU (logged per model).
 */
public final class CloudInference implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CloudInference.class.getName());

    /** A model version the role cannot serve: 404. */
    public static final class UnknownModelException extends RuntimeException {
        UnknownModelException(String m) {
            super(m);
        }
    }

    /**
     * A registered version this role cannot load because its bytes are not where it reads them (its chunk store lacks
     * chunks: a role on a shared database but its own data folder, docs/install.md): 503, the operator's to fix.
     */
    public static final class ModelUnavailableException extends RuntimeException {
        ModelUnavailableException(String m) {
            super(m);
        }
    }

    /** A loaded version. */
    public record Served(String model, String version, ManifestVariant variant, LoadedModel loaded, Batcher batcher) {
    }

    private final ModelRegistry registry;
    private final Path dir;
    private final BatchingSettings batching;
    private final EngineOptions engine;
    private final IntConsumer batchSizes;
    private final java.util.concurrent.atomic.AtomicLong runs = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong rows = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger largest = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, Served> loaded = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public CloudInference(ModelRegistry registry, Path dir, BatchingSettings batching, EngineOptions engine, IntConsumer batchSizes) {
        this.registry = registry;
        this.dir = dir;
        this.batching = batching;
        this.engine = engine;
        this.batchSizes = n -> {
            runs.incrementAndGet();
            rows.addAndGet(n);
            largest.accumulateAndGet(n, Math::max);
            batchSizes.accept(n);
        };
    }

    private volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

    /** Traces the batches and model calls of versions loaded from now on (see {@link Batcher}). Off by default. */
    public void useTracing(io.edgefleet.transport.tracing.Tracing t) {
        this.tracing = java.util.Objects.requireNonNull(t);
    }

    /** Model calls, rows they computed, and the largest batch, since start. */
    public Map<String, Long> stats() {
        return Map.of("runs", runs.get(), "rows", rows.get(), "largestBatch", (long) largest.get());
    }

    public BatchingSettings batching() {
        return batching;
    }

    /** The newest non-deprecated version of a model. */
    public Optional<String> defaultVersion(String model) {
        return registry.versions(model).stream().filter(v -> !v.deprecated()).map(ModelVersion::version).findFirst();
    }

    /** Loads (once) and returns a version; empty version means the default one. */
    public Served served(String model, Optional<String> version) {
        String v = version.or(() -> defaultVersion(model)).orElseThrow(() -> new UnknownModelException("no model named " + model
                + " is registered"));
        String key = model + "/" + v;
        Served s = loaded.get(key);
        if (s != null) {
            return s;
        }
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            s = loaded.get(key);
            if (s == null) {
                s = load(model, v);
                loaded.put(key, s);
            }
            return s;
        }
    }

    private Served load(String model, String version) {
        byte[] bytes = registry.manifest(model, version).orElseThrow(() -> new UnknownModelException("no model version " + model + "/"
                + version + " is registered"));
        Manifest m = MessageCodec.json().decode(bytes, Manifest.class);
        ManifestVariant v = m.variants().stream().min(Comparator.comparingInt((ManifestVariant x) -> x.runtime().equals("onnxruntime") ? 0 : 1)
                .thenComparingInt(x -> x.precision() == Precision.FP32 ? 0 : x.precision() == Precision.FP16 ? 1 : 2)).orElseThrow();
        Path file = dir.resolve(model).resolve(version).resolve(v.id() + (v.runtime().equals("tflite") ? ".tflite" : ".onnx"));
        List<String> missing = Assembler.assemble(registry.chunks(), v, file);
        if (!missing.isEmpty()) {
            throw new ModelUnavailableException("model " + model + "/" + version + " is registered but this inference role's chunk store lacks "
                    + missing.size() + " of its chunks (roles on one database must share the chunk folder too: docs/install.md)");
        }
        LoadedModel lm = Engines.forRuntime(v.runtime()).load(file, model, engine);
        // On CPU alone batching does not pay by default (BatchingSettings#onCpu; docs/control-plane.md, "Batching on CPU and GPU")
        BatchingSettings effective = batching.forProviders(lm.stats().providers());
        Batcher b = new Batcher(model + "/" + version, lm, effective, batchSizes, tracing);
        LOG.log(System.Logger.Level.INFO, "serving {0}/{1}: variant {2} on {3} {4}, {5}", model, version, v.id(), v.runtime(),
                "providers " + lm.stats().providers(), b.batchable() ? "dynamic batching up to " + effective.maxBatch()
                        : effective.maxBatch() == 1 && batching.maxBatch() > 1 ? "one request at a time (batching is off on CPU by default: it does not pay there)"
                        : effective.maxBatch() == 1 ? "one request at a time (batching off)" : "one request at a time (fixed batch dimension)");
        return new Served(model, version, v, lm, b);
    }

    /** Queues a request on the version's batcher. */
    public CompletableFuture<List<InferTensor>> infer(Served s, List<InferTensor> inputs, Optional<Duration> deadline) {
        return s.batcher().submit(inputs, deadline.orElse(batching.defaultDeadline()));
    }

    /** Requests waiting, per loaded version. */
    public Map<String, Integer> queueDepths() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        loaded.forEach((k, s) -> out.put(k, s.batcher().queueDepth()));
        return out;
    }

    /** Loads a newly registered version ahead of traffic, so the switch-over finds it warm. */
    public void preload(String model, String version) {
        try {
            served(model, Optional.of(version));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot preload {0}/{1} for cloud inference: {2}", model, version, e.getMessage());
        }
    }

    @Override
    public void close() {
        loaded.values().forEach(s -> s.batcher().close());
        loaded.clear();
    }
}
