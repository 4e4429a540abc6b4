/** Prints a TCP port that was free on 127.0.0.1 a moment ago (for bench/agent-footprint.sh). */
public final class FreePort {
    public static void main(String[] args) throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            System.out.println(s.getLocalPort());
        }
    }
}
