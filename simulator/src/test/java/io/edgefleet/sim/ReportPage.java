package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The report page as a reader sees it, parsed for the tests: its charts (each inline SVG read with
 * the JDK's XML parser), the wave numbers of the rollout charts and of the gate tables, and the
 * report JSON embedded at its end. {@link #assertReadable()} holds the rules every report keeps.
 */
record ReportPage(String html) {
    private static final Pattern SVG = Pattern.compile("(?s)<svg .*?</svg>");
    private static final Pattern ROLLOUT_CHART = Pattern.compile("(?s)<div class=\"rollout-chart\" data-step=\"([^\"]+)\">(<svg .*?</svg>)");
    private static final Pattern GATE_TABLE = Pattern.compile("(?s)<table class=\"gates\" data-step=\"([^\"]+)\">(.*?)</table>");
    private static final Pattern GATE_ROW = Pattern.compile("<tr class=\"gate-eval\" data-wave=\"(\\d+)\"><td>[^<]*</td><td>(\\d+)</td>");

    static Document svg(String text) {
        try {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(text)));
        } catch (Exception e) {
            throw new AssertionError("not well-formed SVG: " + e.getMessage() + "\n" + text, e);
        }
    }

    List<Document> charts() {
        List<Document> out = new ArrayList<>();
        Matcher m = SVG.matcher(html);
        while (m.find()) {
            out.add(svg(m.group()));
        }
        return out;
    }

    /** The wave numbers in a rollout chart's legend ("wave 1", "wave 2"...), in order. */
    List<Integer> chartWaves(String step) {
        Matcher m = ROLLOUT_CHART.matcher(html);
        while (m.find()) {
            if (m.group(1).equals(step)) {
                List<Integer> out = new ArrayList<>();
                for (Element t : elements(svg(m.group(2)), "text")) {
                    if (t.getParentNode() instanceof Element g && g.getAttribute("class").equals("legend series")) {
                        assertThat(t.getTextContent()).startsWith("wave ");
                        out.add(Integer.parseInt(t.getTextContent().substring(5)));
                    }
                }
                return out;
            }
        }
        throw new AssertionError("no rollout chart for " + step);
    }

    /** The rollout chart of a step, parsed. */
    Document rolloutChart(String step) {
        Matcher m = ROLLOUT_CHART.matcher(html);
        while (m.find()) {
            if (m.group(1).equals(step)) {
                return svg(m.group(2));
            }
        }
        throw new AssertionError("no rollout chart for " + step);
    }

    /** The wave numbers of a step's gate evaluations, as the table shows them. */
    TreeSet<Integer> gateWaves(String step) {
        Matcher m = GATE_TABLE.matcher(html);
        while (m.find()) {
            if (m.group(1).equals(step)) {
                TreeSet<Integer> out = new TreeSet<>();
                Matcher r = GATE_ROW.matcher(m.group(2));
                while (r.find()) {
                    assertThat(r.group(2)).as("the wave cell says what the row's data says").isEqualTo(r.group(1));
                    out.add(Integer.parseInt(r.group(1)));
                }
                return out;
            }
        }
        throw new AssertionError("no gate table for " + step);
    }

    /** The gate table's column headings of a step, each "label min|max THRESHOLD". */
    List<String> gateHeadings(String step) {
        Matcher m = GATE_TABLE.matcher(html);
        while (m.find()) {
            if (m.group(1).equals(step)) {
                List<String> out = new ArrayList<>();
                Matcher h = Pattern.compile("<th data-gate=\"(\\w+)\">([^<]*)<br><small class=\"threshold\">([^<]*)</small></th>").matcher(m.group(2));
                while (h.find()) {
                    out.add(h.group(1) + ": " + h.group(2) + " " + h.group(3));
                }
                return out;
            }
        }
        throw new AssertionError("no gate table for " + step);
    }

    JsonNode json() throws Exception {
        int from = html.indexOf("<script type=\"application/json\" id=\"report\">");
        int to = html.indexOf("</script>", from);
        return new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(html.substring(html.indexOf('>', from) + 1, to).replace("<\\/", "</"));
    }

    /** Every fractional number in the embedded JSON has at most {@value Report.Rounded#DIGITS} significant digits. */
    static void assertNoFloatNoise(JsonNode n, String path) {
        if (n.isFloatingPointNumber()) {
            assertThat(n.decimalValue().stripTrailingZeros().precision()).as("%s = %s", path, n).isLessThanOrEqualTo(Report.Rounded.DIGITS);
        }
        n.properties().forEach(e -> assertNoFloatNoise(e.getValue(), path + "." + e.getKey()));
        for (int i = 0; n.isArray() && i < n.size(); i++) {
            assertNoFloatNoise(n.get(i), path + "[" + i + "]");
        }
    }

    static List<Element> elements(Document d, String tag) {
        NodeList nl = d.getElementsByTagName(tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nl.getLength(); i++) {
            out.add((Element) nl.item(i));
        }
        return out;
    }

    /**
     * Every report: fault shading inside each chart's plot area and named in its legend; y ticks of
     * device counts whole numbers; no Java class name, "null" or float noise anywhere on the page.
     */
    void assertReadable() {
        List<Document> charts = charts();
        assertThat(charts).isNotEmpty();
        for (Document d : charts) {
            Element plot = elements(d, "g").stream().filter(g -> g.getAttribute("class").equals("plot")).findFirst().orElse(null);
            if (plot == null) {
                continue; // the sync bars
            }
            double px = Double.parseDouble(plot.getAttribute("data-x"));
            double py = Double.parseDouble(plot.getAttribute("data-y"));
            double pw = Double.parseDouble(plot.getAttribute("data-width"));
            double ph = Double.parseDouble(plot.getAttribute("data-height"));
            String title = d.getDocumentElement().getAttribute("aria-label");
            List<String> legend = elements(d, "text").stream().filter(t -> t.getParentNode() instanceof Element g
                    && g.getAttribute("class").equals("legend fault")).map(Element::getTextContent).toList();
            for (Element r : elements(d, "rect")) {
                if (!r.getAttribute("class").equals("fault")) {
                    continue;
                }
                double x = Double.parseDouble(r.getAttribute("x"));
                double w = Double.parseDouble(r.getAttribute("width"));
                double y = Double.parseDouble(r.getAttribute("y"));
                double h = Double.parseDouble(r.getAttribute("height"));
                assertThat(x).as("%s: fault shading starts inside the plot", title).isGreaterThanOrEqualTo(px);
                assertThat(x + w).as("%s: fault shading ends inside the plot", title).isLessThanOrEqualTo(px + pw + 0.05);
                assertThat(y).as(title).isGreaterThanOrEqualTo(py);
                assertThat(y + h).as(title).isLessThanOrEqualTo(py + ph + 0.05);
                assertThat(legend).as("%s: the legend names the shaded fault", title)
                        .contains("fault: " + r.getElementsByTagName("title").item(0).getTextContent());
            }
            if (title.startsWith("devices") || title.contains("activated devices")) {
                for (Element t : elements(d, "text")) {
                    if (t.getAttribute("class").equals("ytick")) {
                        assertThat(t.getTextContent()).as("%s: device counts tick at whole numbers", title).matches("\\d+");
                    }
                }
            }
        }
        String visible = html.substring(0, html.indexOf("<script"));
        assertThat(visible).as("no Java class names").doesNotContainPattern("[A-Z][A-Za-z]*(Exception|Error)\\b")
                .doesNotContain("java.", "io.edgefleet", "Optional[", "{count=");
        assertThat(visible).as("no float noise").doesNotContainPattern("\\d\\.\\d{7,}");
        assertThat(visible).as("no null shown").doesNotContainPattern(">[^<]*\\bnull\\b[^<]*<");
        try {
            assertNoFloatNoise(json(), "report");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
