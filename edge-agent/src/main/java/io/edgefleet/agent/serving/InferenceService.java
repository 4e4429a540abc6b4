package io.edgefleet.agent.serving;

import io.edgefleet.agent.slots.Lease;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.engines.EngineException;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.RequestedOutput;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs inference requests for every protocol (HTTP, CoAP, MQTT), so all three reach the same
 * engines and give the same answers. Each model has its own bounded queue and a fixed pool of
 * named platform threads (native calls pin virtual threads): a full queue is refused at once
 * with {@link OverloadedException}, never an unbounded wait.
 *
 * <p>Called from any thread (Helidon's virtual threads, Californium's and Paho's threads); blocks
 * the caller until the answer or the request timeout.
 */
public final class InferenceService implements AutoCloseable {
    private final ModelSlots slots;
    private final int threadsPerModel;
    private final int queueCapacity;
    private final Duration requestTimeout;
    private final Map<String, ThreadPoolExecutor> executors = new ConcurrentHashMap<>();
    private final ModelStatistics statistics = new ModelStatistics();
    private volatile boolean draining;
    private volatile java.util.function.Consumer<io.edgefleet.agent.telemetry.Observation> observer = o -> { };

    private volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

    /**
     * Traces each request's wait in the model's queue ({@code queue}) and its native call
     * ({@code engine.infer}, current on the inference thread while it runs), and an escalation
     * ({@code escalate}), as children of the span current on the caller's thread. Off by default.
     */
    public void useTracing(io.edgefleet.transport.tracing.Tracing t) {
        this.tracing = java.util.Objects.requireNonNull(t);
    }

    /** Receives the inputs of answered requests; called on the inference path, so it must return at once. */
    @FunctionalInterface
    public interface InputSink {
        /**
         * @param model the model that answered
         * @param version the version that answered
         * @param inputs the request's inputs as the model took them (immutable; keep a reference only as long as needed)
         */
        void offer(String model, String version, List<InferTensor> inputs);
    }

    private volatile InputSink inputSink = (m, v, in) -> { };

    /** Receives every answered request with its answer; called on the inference path after the answer was produced, so it must return at once. */
    @FunctionalInterface
    public interface AnswerSink {
        /**
         * @param model the model that answered
         * @param version the version that answered
         * @param inputs the request's inputs (immutable)
         * @param outputs every output of the answer, before the request's selection (immutable)
         */
        void answered(String model, String version, List<InferTensor> inputs, List<InferTensor> outputs);
    }

    private volatile AnswerSink answerSink = (m, v, in, out) -> { };

    /** Receives every answered request and its answer (the shadow runner samples a share of them: docs/shadow.md). */
    public void onAnswer(AnswerSink sink) {
        this.answerSink = java.util.Objects.requireNonNull(sink);
    }

    /** Routes the requests of a model between the two arms of an A/B experiment (docs/ab.md). */
    @FunctionalInterface
    public interface Splitter {
        /**
         * The arm that answers {@code request}, which named no version; empty when {@code model} runs no experiment here
         * (the active version answers as always). Called on the request's thread; must return at once.
         */
        Optional<Split> route(String model, InferRequest request);
    }

    /** One request's arm: a lease on the arm's version and where its outcome is counted. Not thread-safe; one request. */
    public interface Split {
        /** The lease on the arm's version; closed by the service. */
        Lease lease();

        /** {@code a} or {@code b}. */
        String arm();

        String experiment();

        /** The request's id: its own, or one given to it here, which the answer carries (feedback names it: docs/ab.md). */
        String requestId();

        /**
         * The arm answered: its model time in milliseconds and, for classifiers, its top-class probability; the top-1 class
         * index and the number of classes when the answer is one classifier row (empty for regressors and batches).
         */
        void answered(double latencyMillis, OptionalDouble confidence, java.util.OptionalInt topClass, int classes);

        /** The arm's model failed or did not answer in time (a client's bad input is never counted). */
        void failed();
    }

    private volatile Splitter splitter = (m, r) -> Optional.empty();

    /** Splits requests that name no version between the arms of A/B experiments (docs/ab.md). */
    public void split(Splitter s) {
        this.splitter = java.util.Objects.requireNonNull(s);
    }

    /** Receives the inputs of every answered request (the watchdog samples a few per window to time versions on them). */
    public void sampleInputs(InputSink sink) {
        this.inputSink = java.util.Objects.requireNonNull(sink);
    }

    /** Receives one observation per answered or failed request (telemetry). */
    public void observe(java.util.function.Consumer<io.edgefleet.agent.telemetry.Observation> o) {
        this.observer = o;
    }

    public InferenceService(ModelSlots slots, int threadsPerModel, int queueCapacity, Duration requestTimeout) {
        this.slots = slots;
        this.threadsPerModel = threadsPerModel;
        this.queueCapacity = queueCapacity;
        this.requestTimeout = requestTimeout;
    }

    /**
     * Answers a request with the active version of {@code model} (or {@code version}, when given
     * and active). Only the requested outputs are returned when the request names some.
     *
     * @throws io.edgefleet.agent.slots.ModelNotServedException unknown model or version
     * @throws io.edgefleet.engines.InvalidInputException inputs that do not fit the model, checked before the
     *     request is queued (and, when the runtime refuses inputs that passed the checks, after the native call);
     *     never recorded as a model error
     * @throws OverloadedException queue full or answer too late
     * @throws io.edgefleet.engines.InferenceFailedException the runtime failed
     */
    public InferResponse infer(String model, Optional<String> version, InferRequest request) {
        CloudFallback cloud = fallback;
        Optional<EscalationPolicy> policy = cloud == null || version.isPresent() ? Optional.empty() : policies.apply(model);
        if (policy.isEmpty()) {
            return local(model, version, request, observer, null);
        }
        return joint(model, request, policy.get(), cloud);
    }

    /** Version under which a refused request is counted when it named none and the model has no active version. */
    public static final String NO_VERSION = "none";

    /**
     * Counts an inference request that failed with {@code cause} and was answered {@code status},
     * when that is the client's mistake ({@link ClientErrors}): telemetry counts it as a request of
     * {@code model} and the version it named (or the active one), by kind, and never as a model
     * error; the watchdog ignores it. Failures that are not the client's are counted where they
     * happen, so this does nothing for them. Called once per failed request by each transport, on
     * its request thread.
     */
    public void refused(String model, Optional<String> version, RuntimeException cause, int status) {
        ClientErrors.kind(cause, status).ifPresent(kind -> refused(model, version, kind));
    }

    /** Counts a request refused as the client's mistake of {@code kind}; see {@link #refused(String, Optional, RuntimeException, int)}. */
    public void refused(String model, Optional<String> version, io.edgefleet.protocols.messages.ClientErrorKind kind) {
        if (model == null || !io.edgefleet.protocols.Checks.ID.matcher(model).matches()) {
            return; // not a name any model can have, nor a telemetry key
        }
        String v = version.isPresent()
                ? version.filter(x -> io.edgefleet.protocols.Checks.ID.matcher(x).matches()).orElse(NO_VERSION)
                : Optional.ofNullable(slots.activeVersions().get(model)).orElse(NO_VERSION);
        observer.accept(io.edgefleet.agent.telemetry.Observation.refused(model, v, kind));
    }

    private volatile CloudFallback fallback;
    private volatile java.util.function.Function<String, Optional<EscalationPolicy>> policies = m -> Optional.empty();
    private final Map<String, long[]> budgets = new ConcurrentHashMap<>();

    /**
     * Turns on joint inference: for a model with a policy, an answer less sure than the policy's
     * threshold (or a local model that is missing, failing or overloaded) goes to the cloud within
     * the request's deadline, and the cloud's answer comes back marked {@code edgefleet.source=cloud};
     * when the cloud is slow or down the local answer comes back marked low-confidence, and without
     * a local answer the request fails with 503. Never a wait past the deadline.
     */
    public void enableEscalation(CloudFallback cloud, java.util.function.Function<String, Optional<EscalationPolicy>> policyOf) {
        this.policies = policyOf;
        this.fallback = cloud;
    }

    private InferResponse joint(String model, InferRequest request, EscalationPolicy policy, CloudFallback cloud) {
        long t0 = System.nanoTime();
        io.edgefleet.agent.telemetry.Observation[] seen = new io.edgefleet.agent.telemetry.Observation[1];
        io.edgefleet.engines.Confidence[] conf = new io.edgefleet.engines.Confidence[1];
        InferResponse local = null;
        RuntimeException localFailure = null;
        try {
            local = local(model, Optional.empty(), request, o -> seen[0] = o, conf);
        } catch (io.edgefleet.engines.InvalidInputException | io.edgefleet.protocols.ProtocolException e) {
            throw e; // the client's input: the cloud would refuse it too
        } catch (RuntimeException e) {
            localFailure = e;
        }
        OptionalDouble confidence = conf[0] == null ? OptionalDouble.empty() : OptionalDouble.of(policy.confidence(conf[0]));
        boolean sure = local != null && confidence.isPresent() && confidence.getAsDouble() >= policy.threshold();
        if (local != null && (sure || confidence.isEmpty())) {
            emit(seen[0], false, false, 0);
            return mark(local, "edge", confidence, false, null);
        }
        if (local != null && !budget(model, policy.maxShare())) {
            emit(seen[0], false, false, 0);
            return mark(local, "edge", confidence, true, "escalation budget of " + policy.maxShare() + " per minute spent");
        }
        java.time.Duration left = policy.deadline().minusNanos(System.nanoTime() - t0);
        io.edgefleet.transport.tracing.Tracing t = tracing;
        io.opentelemetry.api.trace.Span span = !t.on() ? null : t.tracer().spanBuilder("escalate")
                .setAttribute("edgefleet.model", model)
                .setAttribute("edgefleet.cloud_model", policy.cloudModel().orElse(model))
                .setAttribute("edgefleet.escalation.reason", local == null ? "local_failed" : "low_confidence")
                .startSpan();
        try (io.opentelemetry.context.Scope scope = span == null ? null : span.makeCurrent()) {
            long c0 = System.nanoTime();
            InferResponse answer = cloud.infer(policy.cloudModel().orElse(model), request, left);
            emit(seen[0], true, true, (System.nanoTime() - c0) / 1e6);
            Parameters answered = answer.parameters().with("edgefleet.source", "cloud");
            if (policy.cloudModel().isPresent()) {
                answered = answered.with("edgefleet.cloud_model", policy.cloudModel().get());
            }
            return new InferResponse(model, answer.modelVersion(), request.id(), answered
                    .with("edgefleet.edge_confidence", confidence.isPresent() ? confidence.getAsDouble() : -1.0)
                    .with("edgefleet.cloud_ms", (System.nanoTime() - t0) / 1e6), answer.outputs());
        } catch (CloudFallback.UnavailableException e) {
            if (span != null) {
                io.edgefleet.transport.tracing.Tracing.failed(span, e);
            }
            emit(seen[0], true, false, (System.nanoTime() - t0) / 1e6 - (seen[0] == null ? 0 : seen[0].latencyMillis()));
            if (local != null) {
                return mark(local, "edge", confidence, true, "cloud unavailable: " + e.getMessage());
            }
            throw new OverloadedException("model '" + model + "' cannot answer here (" + localFailure.getMessage()
                    + ") and the cloud is unavailable (" + e.getMessage() + ")", false);
        } finally {
            if (span != null) {
                span.end();
            }
        }
    }

    private void emit(io.edgefleet.agent.telemetry.Observation o, boolean escalated, boolean cloudAnswered, double addedMillis) {
        if (o != null) {
            observer.accept(o.escalated(escalated, cloudAnswered, Math.max(0, addedMillis)));
        }
    }

    private static InferResponse mark(InferResponse r, String source, OptionalDouble confidence, boolean low, String why) {
        Parameters p = r.parameters().with("edgefleet.source", source);
        if (confidence.isPresent()) {
            p = p.with("edgefleet.confidence", confidence.getAsDouble());
        }
        if (low) {
            p = p.with("edgefleet.low_confidence", true);
        }
        if (why != null) {
            p = p.with("edgefleet.escalation", why);
        }
        return new InferResponse(r.modelName(), r.modelVersion(), r.id(), p, r.outputs());
    }

    /** Counts a request that wants the cloud against the model's per-minute share; true when it may go. */
    private boolean budget(String model, double maxShare) {
        long minute = System.currentTimeMillis() / 60_000;
        long[] b = budgets.computeIfAbsent(model, k -> new long[3]);
        synchronized (b) {
            if (b[0] != minute) {
                b[0] = minute;
                b[1] = 0;
                b[2] = 0;
            }
            b[1]++;
            if (b[2] + 1 <= Math.max(1, Math.floor(maxShare * b[1]))) {
                b[2]++;
                return true;
            }
            return false;
        }
    }

    private InferResponse local(String model, Optional<String> version, InferRequest request,
            java.util.function.Consumer<io.edgefleet.agent.telemetry.Observation> sink, io.edgefleet.engines.Confidence[] confidence) {
        if (draining) {
            throw new OverloadedException("the agent is shutting down", false);
        }
        Split split = version.isEmpty() ? splitter.route(model, request).orElse(null) : null;
        Lease lease = split != null ? split.lease() : slots.lease(model, version);
        long taken = System.nanoTime();
        List<InferTensor> checked;
        try {
            // Refused here, a bad request never takes a place in the queue nor a native thread.
            checked = lease.model().check(request.inputs());
        } catch (RuntimeException e) {
            statistics.fail(model, lease.version(), System.nanoTime() - taken);
            lease.close();
            throw e;
        }
        long checkedNanos = System.nanoTime() - taken;
        ThreadPoolExecutor ex = executor(model);
        Future<List<InferTensor>> f;
        long[] execNanos = {0};
        io.edgefleet.transport.tracing.Tracing t = tracing;
        io.opentelemetry.context.Context caller = t.on() ? io.opentelemetry.context.Context.current() : null;
        io.opentelemetry.api.trace.Span queued = caller == null ? null : t.tracer().spanBuilder("queue").setParent(caller)
                .setAttribute("edgefleet.model", model).setAttribute("edgefleet.model.version", lease.version()).startSpan();
        long[] queueNanos = {0};
        long submitted = System.nanoTime();
        try {
            f = ex.submit(() -> {
                io.opentelemetry.api.trace.Span engine = null;
                if (queued != null) {
                    queued.end();
                    engine = t.tracer().spanBuilder("engine.infer").setParent(caller)
                            .setAttribute("edgefleet.model", model).setAttribute("edgefleet.model.version", lease.version())
                            .setAttribute("edgefleet.engine", lease.model().signature().runtime()).startSpan();
                }
                // the model's own time, without the wait in the queue: what the watchdog compares across versions
                long s0 = System.nanoTime();
                queueNanos[0] = s0 - submitted;
                try (io.opentelemetry.context.Scope scope = engine == null ? null : engine.makeCurrent()) {
                    return lease.model().inferChecked(checked);
                } catch (RuntimeException e) {
                    if (engine != null) {
                        io.edgefleet.transport.tracing.Tracing.failed(engine, e);
                    }
                    throw e;
                } finally {
                    execNanos[0] = System.nanoTime() - s0;
                    if (engine != null) {
                        engine.end();
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            if (queued != null) {
                io.edgefleet.transport.tracing.Tracing.failed(queued, e);
                queued.end();
            }
            statistics.fail(model, lease.version(), System.nanoTime() - taken);
            lease.close();
            if (draining) {
                throw new OverloadedException("the agent is shutting down", false);
            }
            throw new OverloadedException("model '" + model + "' has " + queueCapacity + " requests waiting; try again shortly", true);
        }
        long t0 = System.nanoTime();
        try {
            List<InferTensor> outputs = f.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            // before the observation: a request naming an output the model lacks is refused, and counted once, as the client's
            long picking = System.nanoTime();
            List<InferTensor> selected = select(outputs, request.outputs(), model);
            ModelStatistics.Counters counters = statistics.of(model, lease.version());
            counters.add("compute_output", System.nanoTime() - picking);
            counters.add("compute_input", checkedNanos);
            counters.add("queue", queueNanos[0]);
            counters.add("compute_infer", execNanos[0]);
            statistics.success(model, lease.version(), batch(lease, request), System.nanoTime() - taken);
            io.edgefleet.engines.Confidence scores = Observations.confidence(lease, outputs);
            if (split != null) { // before the observation: the telemetry window that counts the request carries its arm's sums
                java.util.OptionalInt top = scores == null || rows(outputs.get(0)) != 1 ? java.util.OptionalInt.empty()
                        : java.util.OptionalInt.of(scores.argmax());
                split.answered(execNanos[0] / 1e6, scores == null ? OptionalDouble.empty() : OptionalDouble.of(scores.maxProbability()), top,
                        top.isPresent() ? (int) outputs.get(0).shape()[outputs.get(0).shape().length - 1] : 0);
            }
            sink.accept(Observations.ok(model, lease, request.inputs(), outputs, execNanos[0] / 1e6, scores));
            offAnswerPath(model, () -> inputSink.offer(model, lease.version(), request.inputs()));
            offAnswerPath(model, () -> answerSink.answered(model, lease.version(), request.inputs(), outputs));
            if (confidence != null) {
                confidence[0] = scores;
            }
            Parameters answered = Parameters.of("edgefleet.computed_at", "edge");
            if (split != null) {
                answered = answered.with("edgefleet.arm", split.arm()).with("edgefleet.experiment", split.experiment());
            }
            return new InferResponse(model, Optional.of(lease.version()), split != null ? Optional.of(split.requestId()) : request.id(), answered,
                    selected);
        } catch (ExecutionException e) {
            statistics.fail(model, lease.version(), System.nanoTime() - taken);
            if (split != null && !Failure.causedByClient(e.getCause())) {
                split.failed();
            }
            // A runtime's refusal of inputs that passed the checks is still the client's mistake, not a model error.
            if (!Failure.causedByClient(e.getCause())) {
                sink.accept(Observations.failed(model, lease.version(), (System.nanoTime() - t0) / 1e6));
            }
            if (e.getCause() instanceof EngineException ee) {
                throw ee;
            }
            throw new IllegalStateException("model '" + model + "' failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            statistics.fail(model, lease.version(), System.nanoTime() - taken);
            if (split != null) {
                split.failed();
            }
            f.cancel(false);
            if (queued != null) {
                queued.end(); // still waiting when cancelled: never started, so ended here (a second end is ignored)
            }
            sink.accept(Observations.failed(model, lease.version(), (System.nanoTime() - t0) / 1e6));
            throw new OverloadedException("model '" + model + "' did not answer within " + requestTimeout.toMillis() + " ms", false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OverloadedException("interrupted while waiting for model '" + model + "'", false);
        } catch (RuntimeException e) { // an output the model lacks
            statistics.fail(model, lease.version(), System.nanoTime() - taken);
            throw e;
        } finally {
            lease.close();
        }
    }

    /**
     * Runs a sink of an answered request (the watchdog's sampler, the shadow runner): its failure is logged and never
     * turns the answer the client is owed into an error (nor counts the request failed after it was counted answered).
     */
    private static void offAnswerPath(String model, Runnable sink) {
        try {
            sink.run();
        } catch (RuntimeException e) {
            System.getLogger(InferenceService.class.getName()).log(System.Logger.Level.WARNING,
                    "model {0}: a sink of answered requests failed; the answer stands: {1}", model, String.valueOf(e));
        }
    }

    private static List<InferTensor> select(List<InferTensor> outputs, List<RequestedOutput> wanted, String model) {
        if (wanted.isEmpty()) {
            return outputs;
        }
        return wanted.stream().map(w -> outputs.stream().filter(o -> o.name().equals(w.name())).findFirst()
                .orElseThrow(() -> new io.edgefleet.engines.InvalidInputException(
                        io.edgefleet.engines.InvalidInputException.Rule.NAME, "model '" + model + "' has no output '" + w.name()
                        + "' (its outputs: " + String.join(", ", outputs.stream().map(InferTensor::name).toList()) + ")")))
                .toList();
    }

    private ThreadPoolExecutor executor(String model) {
        return executors.computeIfAbsent(model, m -> {
            AtomicInteger n = new AtomicInteger();
            ThreadPoolExecutor ex = new ThreadPoolExecutor(threadsPerModel, threadsPerModel, 60, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(queueCapacity), r -> {
                        Thread t = new Thread(r, "infer-" + m + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        t.setUncaughtExceptionHandler((th, e) -> System.getLogger(InferenceService.class.getName())
                                .log(System.Logger.Level.ERROR, "uncaught in " + th.getName(), e));
                        return t;
                    }, new ThreadPoolExecutor.AbortPolicy());
            ex.allowCoreThreadTimeOut(true);
            return ex;
        });
    }

    /** Triton-style per model version statistics of the requests this service ran ({@code GET /v2/models/{m}/stats}). */
    public ModelStatistics statistics() {
        return statistics;
    }

    /** Rows of a classifier output: 1 for {@code [classes]}, else the product of every dimension but the last. */
    private static long rows(InferTensor t) {
        long[] shape = t.shape();
        long n = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            n *= shape[i];
        }
        return n;
    }

    /** Inferences in a request: the first input's first dimension when the model's is dynamic (a batch), else 1. */
    private static long batch(Lease lease, InferRequest request) {
        var specs = lease.model().signature().inputs();
        if (specs.isEmpty() || request.inputs().isEmpty() || specs.get(0).shape().isEmpty() || specs.get(0).shape().get(0) != -1) {
            return 1;
        }
        long[] shape = request.inputs().get(0).shape();
        return shape.length == 0 ? 1 : Math.max(1, shape[0]);
    }

    /** Requests waiting per model, for metrics. */
    public Map<String, Integer> queueDepths() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        executors.forEach((m, e) -> out.put(m, e.getQueue().size()));
        return out;
    }

    /** Stops taking requests and waits up to {@code grace} for queued ones to finish. */
    public void drain(Duration grace) {
        draining = true;
        executors.values().forEach(ThreadPoolExecutor::shutdown);
        long deadline = System.nanoTime() + grace.toNanos();
        for (ThreadPoolExecutor e : executors.values()) {
            try {
                e.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        drain(Duration.ofSeconds(5));
        executors.values().forEach(ThreadPoolExecutor::shutdownNow);
    }
}
