package io.edgefleet.agent.identity;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;

/** A control plane that refuses the connection is named with the reason, never "unreachable: null". */
class EnrolmentUnreachableTest {
    @Test
    void a_refused_connection_names_the_control_plane_and_the_reason() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/enrol")).GET();
        assertThatThrownBy(() -> EnrolmentClient.send(HttpClient.newHttpClient(), req)).isInstanceOf(IdentityException.class)
                .hasMessageStartingWith("control plane unreachable at http://127.0.0.1:" + port + ": ").hasMessageNotContaining("null");
    }
}
