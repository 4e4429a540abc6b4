package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.testkit.NotifySocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify datagrams sent to a real AF_UNIX datagram socket, as systemd's would receive them. */
class SystemdNotifyTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void linux() {
        assumeTrue(NotifySocket.supported(), "AF_UNIX datagram sockets through libc: Linux only");
    }

    @Test
    void ready_status_and_stopping_arrive_as_sd_notify_datagrams() throws Exception {
        try (NotifySocket manager = NotifySocket.bind(dir)) {
            SystemdNotify notify = SystemdNotify.toSocket(manager.address());

            assertThat(notify.enabled()).isTrue();
            assertThat(notify.ready("serving http://127.0.0.1:8000/v2\nmodels [kws]")).isTrue();
            assertThat(notify.status("enrolled")).isTrue();
            assertThat(notify.stopping("draining")).isTrue();

            assertThat(manager.receive(Duration.ofSeconds(5))).contains("READY=1\nSTATUS=serving http://127.0.0.1:8000/v2 models [kws]");
            assertThat(manager.receive(Duration.ofSeconds(5))).contains("STATUS=enrolled");
            assertThat(manager.receive(Duration.ofSeconds(5))).contains("STOPPING=1\nSTATUS=draining");
        }
    }

    @Test
    void without_a_socket_nothing_is_sent_and_nothing_fails() {
        SystemdNotify notify = SystemdNotify.toSocket(null);

        assertThat(notify.enabled()).isFalse();
        assertThat(notify.ready("serving")).isFalse();
        assertThat(SystemdNotify.toSocket(" ").enabled()).isFalse();
    }

    @Test
    void a_socket_that_is_gone_or_malformed_returns_false_instead_of_failing_the_agent() {
        assertThat(SystemdNotify.toSocket(dir.resolve("gone.sock").toString()).ready("serving")).isFalse();
        assertThat(SystemdNotify.toSocket("relative/notify.sock").ready("serving")).isFalse();
        assertThat(SystemdNotify.toSocket("/" + "x".repeat(200)).stopping("bye")).isFalse();
    }

    @Test
    void an_abstract_address_becomes_a_leading_nul_without_a_terminating_one() {
        byte[] family = java.nio.ByteBuffer.allocate(2).order(java.nio.ByteOrder.nativeOrder()).putShort((short) 1).array();

        assertThat(SystemdNotify.sockaddr("@sd")).containsExactly(family[0], family[1], 0, 's', 'd');
        assertThat(SystemdNotify.sockaddr("/run/n")).containsExactly(family[0], family[1], '/', 'r', 'u', 'n', '/', 'n', 0);
    }
}
