package io.edgefleet.cloud.ingest;

import io.edgefleet.protocols.messages.TelemetryBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The in-process pipeline (no Kafka): one writer thread takes what has queued up (up to
 * {@code maxGroup} batches), folds it into the aggregates in one transaction, then acknowledges
 * those messages to the broker. Group commit keeps one fsync-free transaction per group; a
 * database failure retries the same group with backoff and acknowledges nothing meanwhile.
 */
public final class DirectSink implements TelemetrySink {
    private static final System.Logger LOG = System.getLogger(DirectSink.class.getName());

    private record Item(TelemetryBatch batch, Ack ack) {
    }

    private final Aggregator aggregator;
    private final int maxGroup;
    private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private volatile boolean closed;

    public DirectSink(Aggregator aggregator, int maxGroup) {
        this.aggregator = aggregator;
        this.maxGroup = maxGroup;
        this.writer = Thread.ofPlatform().name("ingest-writer").daemon().start(this::run);
    }

    @Override
    public void submit(TelemetryBatch batch, byte[] raw, Ack ack) {
        queue.add(new Item(batch, ack));
    }

    @Override
    public int pending() {
        return queue.size();
    }

    private void run() {
        List<Item> group = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Item first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                group.add(first);
                queue.drainTo(group, maxGroup - 1);
                long backoff = 100;
                while (true) {
                    try {
                        aggregator.apply(group.stream().map(Item::batch).toList());
                        break;
                    } catch (RuntimeException e) {
                        if (closed) {
                            return; // unacknowledged: the broker redelivers to the next ingest
                        }
                        LOG.log(System.Logger.Level.WARNING, "cannot store {0} telemetry batches ({1}); retrying in {2} ms", group.size(),
                                e.getMessage(), backoff);
                        Thread.sleep(backoff);
                        backoff = Math.min(backoff * 2, 5000);
                    }
                }
                for (Item i : group) {
                    try {
                        i.ack().ack();
                    } catch (RuntimeException e) {
                        // stored already; unacknowledged, the broker redelivers it and the dedupe drops it
                        LOG.log(System.Logger.Level.INFO, "acknowledgement failed: {0}", e.toString());
                    }
                }
                group.clear();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
