package io.edgefleet.transport.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-key token bucket of client-failure lines, stepped with a hand-moved clock. */
class ClientFailureLogTest {
    final List<String> lines = new ArrayList<>();
    final List<Throwable> thrown = new ArrayList<>();
    final AtomicLong now = new AtomicLong(1_000);
    final System.Logger sink = new System.Logger() {
        @Override
        public String getName() {
            return "test";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable t) {
            lines.add(msg);
            if (t != null) {
                thrown.add(t);
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(format);
        }
    };
    final ClientFailureLog log = new ClientFailureLog(sink, 3, Duration.ofSeconds(10), now::get);

    @Test
    void writes_a_burst_then_one_line_per_interval_and_reports_what_it_folded() {
        for (int i = 0; i < 10; i++) {
            log.log("client disconnected mid-body", "client " + i);
        }
        assertThat(lines).containsExactly("client disconnected mid-body: client 0", "client disconnected mid-body: client 1",
                "client disconnected mid-body: client 2");
        assertThat(log.suppressed()).isEqualTo(7);
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertThat(log.log("client disconnected mid-body", "client 10")).isTrue();
        assertThat(lines.getLast()).isEqualTo("client disconnected mid-body: client 10 (7 more like this since the last line)");
        assertThat(log.log("client disconnected mid-body", "client 11")).isFalse();
        assertThat(thrown).isEmpty();
    }

    @Test
    void keys_have_their_own_buckets() {
        for (int i = 0; i < 5; i++) {
            log.log("a", "x");
        }
        assertThat(log.log("b", "y")).isTrue();
        assertThat(lines).hasSize(4).last().isEqualTo("b: y");
    }
}
