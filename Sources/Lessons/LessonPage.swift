import Foundation
import GAN

/// `index.html` of a run: the lesson's narrative with each stage's figures inline and its key
/// metrics — a page a student opens after class. Offline: relative paths, no scripts.
struct LessonPage {
    let lesson: Lesson
    let summary: RunSummary

    var html: String {
        var body = "<h1>Lesson \(lesson.number): \(escaped(lesson.title))</h1>\n"
        body += "<p class=\"meta\">seed \(summary.seed)\(summary.quick ? " · quick mode" : "") · "
            + "\(summary.durationSeconds) s\(summary.interrupted ? " · <strong>interrupted</strong>" : "")"
            + (summary.overrides.isEmpty ? "" : " · settings changed: <code>\(escaped(summary.overrides.joined(separator: " ")))</code>")
            + "</p>\n"
        body += markdown(lesson.introduction)
        for plan in lesson.stages {
            body += "<section>\n<h2>Stage \(plan.number) · \(escaped(plan.title))</h2>\n"
            body += markdown(plan.introduction)
            if let ran = summary.stages.first(where: { $0.number == plan.number }) {
                body += metricsTable(ran.metrics)
                // Snapshot series as a grid of thumbnails; single figures full width.
                let series = ran.figures.filter { $0.contains("/samples-") }
                body += ran.figures.filter { !series.contains($0) }.map(figure).joined()
                if !series.isEmpty { body += "<div class=\"grid\">\n" + series.map(figure).joined() + "</div>\n" }
                body += markdown(plan.conclusion)
            } else {
                body += "<p class=\"meta\">This stage did not run.</p>\n"
            }
            body += "</section>\n"
        }
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Lesson \(lesson.number): \(escaped(lesson.title))</title>
        <style>
        body { font-family: "DejaVu Sans", sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
        h1 { font-size: 1.8rem; } h2 { font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
        .meta { color: #666; } code { background: #f3f3f3; padding: 0 .2rem; }
        figure { margin: 1rem 0; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: .5rem; }
        .grid figure { margin: 0; }
        object.pdf { width: 100%; aspect-ratio: 4 / 3; border: 1px solid #eee; } img { max-width: 100%; border: 1px solid #eee; }
        figcaption { color: #666; font-size: .85rem; }
        table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
        td, th { padding: .2rem .8rem; border-bottom: 1px solid #eee; text-align: right; } th { text-align: left; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    /// A figure inline: PNG and SVG as images, PDF (which an <img> cannot show) as an embedded document.
    private func figure(_ path: String) -> String {
        let source = escaped(path)
        let body = path.hasSuffix(".pdf")
            ? "<object data=\"\(source)\" type=\"application/pdf\" class=\"pdf\"><a href=\"\(source)\">\(source)</a></object>"
            : "<a href=\"\(source)\"><img src=\"\(source)\" alt=\"\(source)\" loading=\"lazy\"></a>"
        return "<figure>\(body)<figcaption>\(source)</figcaption></figure>\n"
    }

    private func metricsTable(_ metrics: [String: Double]) -> String {
        guard !metrics.isEmpty else { return "" }
        let rows = metrics.keys.sorted().map { key in
            "<tr><th>\(escaped(MetricNames.label(key)))</th><td>\(format(metrics[key]!))</td><td><code>\(escaped(key))</code></td></tr>"
        }
        return "<table>\n" + rows.joined(separator: "\n") + "\n</table>\n"
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? grouped(Int(value)) : String(format: "%.4g", value)
    }
}

/// A small Markdown subset as HTML: paragraphs, `-` lists, `**bold**`, `code`.
func markdown(_ text: String) -> String {
    guard !text.isEmpty else { return "" }
    return text.components(separatedBy: "\n\n").map { paragraph -> String in
        let lines = paragraph.components(separatedBy: "\n")
        if lines.allSatisfy({ $0.hasPrefix("- ") }) {
            return "<ul>" + lines.map { "<li>\(inline(String($0.dropFirst(2))))</li>" }.joined() + "</ul>\n"
        }
        if paragraph.hasPrefix("# ") { return "<h3>\(inline(String(paragraph.dropFirst(2))))</h3>\n" }
        return "<p>\(inline(lines.joined(separator: " ")))</p>\n"
    }.joined()
}

private func inline(_ text: String) -> String {
    var result = escaped(text)
    for (marker, tag) in [("**", "strong"), ("`", "code")] {
        let parts = result.components(separatedBy: marker)
        guard parts.count >= 3, parts.count % 2 == 1 else { continue }  // only balanced markers
        result = parts.enumerated().map { $0.offset % 2 == 1 ? "<\(tag)>\($0.element)</\(tag)>" : $0.element }.joined()
    }
    return result
}

func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
