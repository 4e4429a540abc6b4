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
    private volatile boolean draining;
    private volatile java.util.function.Consumer<io.edgefleet.agent.telemetry.Observation> observer = o -> { };

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
     * @throws io.edgefleet.engines.InvalidInputException inputs that do not fit the model
     * @throws OverloadedException queue full or answer too late
     * @throws io.edgefleet.engines.InferenceFailedException the runtime failed
     */
    public InferResponse infer(String model, Optional<String> version, InferRequest request) {
        if (draining) {
            throw new OverloadedException("the agent is shutting down", false);
        }
        Lease lease = slots.lease(model, version);
        ThreadPoolExecutor ex = executor(model);
        Future<List<InferTensor>> f;
        long[] execNanos = {0};
        try {
            f = ex.submit(() -> {
                // the model's own time, without the wait in the queue: what the watchdog compares across versions
                long s0 = System.nanoTime();
                try {
                    return lease.model().infer(request.inputs());
                } finally {
                    execNanos[0] = System.nanoTime() - s0;
                }
            });
        } catch (RejectedExecutionException e) {
            lease.close();
            if (draining) {
                throw new OverloadedException("the agent is shutting down", false);
            }
            throw new OverloadedException("model '" + model + "' has " + queueCapacity + " requests waiting; try again shortly", true);
        }
        long t0 = System.nanoTime();
        try {
            List<InferTensor> outputs = f.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            observer.accept(Observations.ok(model, lease, request.inputs(), outputs, execNanos[0] / 1e6));
            return new InferResponse(model, Optional.of(lease.version()), request.id(),
                    Parameters.of("edgefleet.computed_at", "edge"), select(outputs, request.outputs(), model));
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof io.edgefleet.engines.InvalidInputException)) {
                observer.accept(Observations.failed(model, lease.version(), (System.nanoTime() - t0) / 1e6));
            }
            if (e.getCause() instanceof EngineException ee) {
                throw ee;
            }
            throw new IllegalStateException("model '" + model + "' failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            f.cancel(false);
            observer.accept(Observations.failed(model, lease.version(), (System.nanoTime() - t0) / 1e6));
            throw new OverloadedException("model '" + model + "' did not answer within " + requestTimeout.toMillis() + " ms", false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OverloadedException("interrupted while waiting for model '" + model + "'", false);
        } finally {
            lease.close();
        }
    }

    private static List<InferTensor> select(List<InferTensor> outputs, List<RequestedOutput> wanted, String model) {
        if (wanted.isEmpty()) {
            return outputs;
        }
        return wanted.stream().map(w -> outputs.stream().filter(o -> o.name().equals(w.name())).findFirst()
                .orElseThrow(() -> new io.edgefleet.engines.InvalidInputException("model '" + model + "' has no output '" + w.name()
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
