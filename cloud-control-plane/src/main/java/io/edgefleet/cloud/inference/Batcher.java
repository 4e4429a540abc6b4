package io.edgefleet.cloud.inference;

import io.edgefleet.engines.LoadedModel;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Dynamic batching for one loaded model. Requests queue (bounded: {@link QueueFullException} when
 * full); one worker takes the oldest, gathers compatible requests that arrive within
 * {@code maxDelay} up to {@code maxBatch} rows, concatenates each input along the batch dimension,
 * runs the model once and splits every output back by each request's rows, so each caller gets
 * exactly what a call of its own would have given. A request whose deadline passed while it
 * waited is answered with {@link DeadlineExceededException}, not computed. A model whose batch
 * dimension is fixed, or inputs of variable-length strings, run one request at a time. Every
 * request is checked on its own before it is queued, so a batch only ever holds valid requests of
 * at least one row each; a batch the model still refuses as a whole (over the per-request memory
 * bound, say) runs request by request.
 */
public final class Batcher implements AutoCloseable {
    /** The queue is full: answer 429. */
    public static final class QueueFullException extends RuntimeException {
        QueueFullException(String m) {
            super(m);
        }
    }

    /** The request's deadline passed before it could run: answer 504. */
    public static final class DeadlineExceededException extends RuntimeException {
        DeadlineExceededException(String m) {
            super(m);
        }
    }

    /** @param trace the submitter's context when tracing is on (its request span), else null */
    private record Pending(List<InferTensor> inputs, long deadlineNanos, int rows, CompletableFuture<List<InferTensor>> result,
            io.opentelemetry.context.Context trace) {
    }

    private final LoadedModel model;
    private final String name;
    private final BatchingSettings settings;
    private final boolean batchable;
    private final ArrayBlockingQueue<Pending> queue;
    private final Deque<Pending> carry = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final Thread worker;
    private final IntConsumer batchSizes;
    private final AtomicLong expired = new AtomicLong();
    /** Requests submitted and not yet answered: a lone request does not wait for company that is not coming. */
    private final java.util.concurrent.atomic.AtomicInteger outstanding = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;

    public Batcher(String name, LoadedModel model, BatchingSettings settings, IntConsumer batchSizes) {
        this(name, model, settings, batchSizes, io.edgefleet.transport.tracing.Tracing.off());
    }

    private final io.edgefleet.transport.tracing.Tracing tracing;

    /**
     * A batcher that traces each batch: a {@code batch} span, a child of the first request's span
     * and linked to every request's span (a batch serves several traces), with the model call
     * ({@code model.infer}) inside it.
     */
    public Batcher(String name, LoadedModel model, BatchingSettings settings, IntConsumer batchSizes,
            io.edgefleet.transport.tracing.Tracing tracing) {
        this.tracing = tracing;
        this.name = name;
        this.model = model;
        this.settings = settings;
        this.batchSizes = batchSizes;
        this.batchable = settings.maxBatch() > 1 && model.signature().inputs().stream()
                .allMatch(t -> !t.shape().isEmpty() && t.shape().get(0) < 0 && t.datatype() != io.edgefleet.protocols.oip.DataType.BYTES);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.worker = Thread.ofPlatform().name("batcher-" + name).daemon().start(this::run);
    }

    /** The settings this batcher runs with (for a CPU-only model by default {@link BatchingSettings#unbatched()}). */
    public BatchingSettings settings() {
        return settings;
    }

    public boolean batchable() {
        return batchable;
    }

    public int queueDepth() {
        return queue.size() + carry.size();
    }

    public long expired() {
        return expired.get();
    }

    /**
     * Checks a request against the model ({@link LoadedModel#check}: signature, empty tensors, tied
     * dimensions, memory bound) and queues it; the future completes with its outputs or the
     * failure. A request that fails the checks never joins a batch, so it can neither break its
     * neighbours' batch nor reach the runtime through the concatenation.
     *
     * @throws io.edgefleet.engines.InvalidInputException at once, for inputs the model cannot take
     * @throws QueueFullException when the queue is full or the model is being unloaded
     */
    public CompletableFuture<List<InferTensor>> submit(List<InferTensor> request, Duration deadline) {
        if (closed) {
            throw new QueueFullException("model " + name + " is being unloaded; try again");
        }
        List<InferTensor> inputs = model.check(request);
        int rows = inputs.isEmpty() || inputs.get(0).shape().length == 0 ? 1 : (int) inputs.get(0).shape()[0];
        Pending p = new Pending(inputs, System.nanoTime() + deadline.toNanos(), rows, new CompletableFuture<>(),
                tracing.on() ? io.opentelemetry.context.Context.current() : null);
        outstanding.incrementAndGet();
        p.result().whenComplete((r, e) -> outstanding.decrementAndGet());
        if (!queue.offer(p)) {
            outstanding.decrementAndGet();
            throw new QueueFullException("the queue of model " + name + " is full (" + settings.queueCapacity() + " requests); try again");
        }
        return p.result();
    }

    private Pending next(long timeoutNanos) throws InterruptedException {
        Pending p = carry.pollFirst();
        return p != null ? p : queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void run() {
        while (!closed) {
            try {
                Pending first = next(TimeUnit.MILLISECONDS.toNanos(200));
                if (first == null) {
                    continue;
                }
                List<Pending> batch = new ArrayList<>();
                batch.add(first);
                int rows = first.rows();
                if (batchable) {
                    // Wait for company only when other requests are on their way: at concurrency 1 the delay is pure cost.
                    long until = System.nanoTime() + (outstanding.get() > 1 ? settings.maxDelay().toNanos() : 0);
                    List<Pending> skipped = new ArrayList<>();
                    while (rows < settings.maxBatch()) {
                        long wait = until - System.nanoTime();
                        Pending p = carry.isEmpty() ? (wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll()) : carry.pollFirst();
                        if (p == null) {
                            break;
                        }
                        if (compatible(first, p) && rows + p.rows() <= settings.maxBatch()) {
                            batch.add(p);
                            rows += p.rows();
                        } else {
                            skipped.add(p);
                            if (skipped.size() > settings.maxBatch()) {
                                break;
                            }
                        }
                    }
                    for (int i = skipped.size() - 1; i >= 0; i--) {
                        carry.addFirst(skipped.get(i));
                    }
                }
                execute(batch);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // execute() completes every future; nothing else can throw here
            }
        }
        failAll(new QueueFullException("model " + name + " was unloaded"));
    }

    private static boolean compatible(Pending a, Pending b) {
        if (a.inputs().size() != b.inputs().size()) {
            return false;
        }
        for (int i = 0; i < a.inputs().size(); i++) {
            InferTensor x = a.inputs().get(i);
            InferTensor y = b.inputs().get(i);
            if (!x.name().equals(y.name()) || x.datatype() != y.datatype() || x.shape().length != y.shape().length || x.shape().length == 0) {
                return false;
            }
            for (int d = 1; d < x.shape().length; d++) {
                if (x.shape()[d] != y.shape()[d]) {
                    return false;
                }
            }
        }
        return true;
    }

    private void execute(List<Pending> batch) {
        long now = System.nanoTime();
        List<Pending> live = new ArrayList<>();
        for (Pending p : batch) {
            if (now > p.deadlineNanos()) {
                expired.incrementAndGet();
                p.result().completeExceptionally(new DeadlineExceededException("the request's deadline passed after "
                        + "waiting in the queue of model " + name + "; it was not computed"));
            } else {
                live.add(p);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        if (!tracing.on()) {
            run(live);
            return;
        }
        io.opentelemetry.api.trace.SpanBuilder b = tracing.tracer().spanBuilder("batch").setParent(live.get(0).trace())
                .setAttribute("edgefleet.model", name)
                .setAttribute("edgefleet.batch.requests", (long) live.size())
                .setAttribute("edgefleet.batch.rows", (long) live.stream().mapToInt(Pending::rows).sum());
        for (Pending p : live) {
            b.addLink(io.opentelemetry.api.trace.Span.fromContext(p.trace()).getSpanContext());
        }
        io.opentelemetry.api.trace.Span span = b.startSpan();
        try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
            run(live);
        } finally {
            span.end();
        }
    }

    /** One model call for the whole batch; the span current here (the batch's) is the parent of each call's span. */
    private List<InferTensor> call(List<InferTensor> inputs) {
        return tracing.on() ? tracing.within("model.infer", () -> model.infer(inputs)) : model.infer(inputs);
    }

    private void run(List<Pending> live) {
        batchSizes.accept(live.stream().mapToInt(Pending::rows).sum());
        if (live.size() == 1) {
            runAlone(live.get(0));
            return;
        }
        List<InferTensor> outputs;
        try {
            outputs = call(concat(live));
        } catch (RuntimeException e) {
            // One bad request must not fail its neighbours: run them one by one to see whose it is.
            live.forEach(this::runAlone);
            return;
        }
        int total = live.stream().mapToInt(Pending::rows).sum();
        if (outputs.stream().anyMatch(t -> t.shape().length == 0 || t.shape()[0] != total)) {
            live.forEach(this::runAlone); // an output without the batch dimension: cannot split
            return;
        }
        int offset = 0;
        for (Pending p : live) {
            List<InferTensor> mine = new ArrayList<>();
            for (InferTensor t : outputs) {
                mine.add(slice(t, offset, p.rows()));
            }
            offset += p.rows();
            p.result().complete(mine);
        }
    }

    private void runAlone(Pending p) {
        try {
            p.result().complete(call(p.inputs()));
        } catch (RuntimeException e) {
            p.result().completeExceptionally(e);
        }
    }

    /**
     * Each input of the batch as one tensor, the requests' rows one after the other: one copy of
     * each request's little-endian bytes straight into a buffer of the batch's exact size (no
     * per-value work, no intermediate copies).
     */
    private static List<InferTensor> concat(List<Pending> batch) {
        List<InferTensor> out = new ArrayList<>();
        Pending first = batch.get(0);
        for (int i = 0; i < first.inputs().size(); i++) {
            InferTensor t0 = first.inputs().get(i);
            long size = 0;
            long rows = 0;
            for (Pending p : batch) {
                InferTensor t = p.inputs().get(i);
                size += t.data().byteSize();
                rows += t.shape()[0];
            }
            byte[] bytes = new byte[Math.toIntExact(size)];
            int at = 0;
            for (Pending p : batch) {
                java.nio.ByteBuffer b = p.inputs().get(i).data().buffer();
                int n = b.remaining();
                b.get(bytes, at, n);
                at += n;
            }
            long[] shape = t0.shape().clone();
            shape[0] = rows;
            out.add(new InferTensor(t0.name(), TensorData.ofRaw(t0.datatype(), shape, bytes), t0.parameters()));
        }
        return out;
    }

    /** Rows {@code [fromRow, fromRow + rows)} of an output: one copy of just those bytes. */
    private static InferTensor slice(InferTensor t, int fromRow, int rows) {
        long[] shape = t.shape().clone();
        java.nio.ByteBuffer all = t.data().buffer();
        int rowBytes = (int) (all.remaining() / shape[0]);
        shape[0] = rows;
        byte[] part = new byte[rows * rowBytes];
        all.position(fromRow * rowBytes).get(part);
        return new InferTensor(t.name(), TensorData.ofRaw(t.datatype(), shape, part), t.parameters());
    }

    private void failAll(RuntimeException e) {
        for (Pending p = carry.pollFirst(); p != null; p = carry.pollFirst()) {
            p.result().completeExceptionally(e);
        }
        for (Pending p = queue.poll(); p != null; p = queue.poll()) {
            p.result().completeExceptionally(e);
        }
    }

    /** Stops taking requests, finishes none of the queued ones (they fail with a retryable error), then closes the model. */
    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failAll(new QueueFullException("model " + name + " was unloaded"));
        model.close();
    }
}
