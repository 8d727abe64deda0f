// Tollgate dashboard charts: small SVG line, bar and horizontal bar charts, drawn with DOM calls only (no inline
// style, no innerHTML), so they run under the page's strict Content-Security-Policy.
"use strict";

window.TollgateCharts = (() => {
    const NS = "http://www.w3.org/2000/svg";
    const WIDTH = 640;
    const HEIGHT = 220;
    const PAD = { top: 28, right: 12, bottom: 30, left: 72 };
    const PALETTE = ["#2f6fde", "#e0563b", "#1f9d6b", "#b45fd1", "#d89a17", "#5b6b7f", "#17a2b8", "#9c6644"];

    function el(name, attrs, parent) {
        const node = document.createElementNS(NS, name);
        for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
        if (parent) parent.appendChild(node);
        return node;
    }

    function text(parent, x, y, content, attrs) {
        const node = el("text", Object.assign({ x, y }, attrs || {}), parent);
        node.textContent = content;
        return node;
    }

    function title(parent, content) {
        el("title", {}, parent).textContent = content;
    }

    /// Round steps (1, 2, 5 × 10^n) from 0 to at least `max`.
    function ticks(max, count) {
        if (!(max > 0)) return [0, 1];
        const raw = max / count;
        const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
        const out = [];
        for (let v = 0; v < max + step / 2; v += step) out.push(v);
        if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
        return out;
    }

    function svgFor(container, label) {
        container.replaceChildren();
        const svg = el("svg", {
            viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
            class: "chart",
            role: "img",
            "aria-label": label || "chart",
        });
        container.appendChild(svg);
        return svg;
    }

    function legend(svg, series) {
        let x = PAD.left;
        series.forEach((s, i) => {
            const color = s.color || PALETTE[i % PALETTE.length];
            el("rect", { x, y: 7, width: 11, height: 11, fill: color, rx: 2 }, svg);
            const label = text(svg, x + 15, 17, s.name, { class: "legend" });
            x += 28 + Math.max(40, s.name.length * 8);
            void label;
        });
    }

    function axes(svg, labels, yTicks, yMax, format) {
        const plotW = WIDTH - PAD.left - PAD.right;
        const plotH = HEIGHT - PAD.top - PAD.bottom;
        for (const t of yTicks) {
            const y = PAD.top + plotH - (t / yMax) * plotH;
            el("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: "grid" }, svg);
            text(svg, PAD.left - 6, y + 4, format(t), { class: "tick", "text-anchor": "end" });
        }
        const every = Math.max(1, Math.ceil(labels.length / 7));
        labels.forEach((label, i) => {
            if (i % every !== 0) return;
            const x = PAD.left + ((i + 0.5) / labels.length) * plotW;
            text(svg, x, HEIGHT - 8, label, { class: "tick", "text-anchor": "middle" });
        });
        return { plotW, plotH };
    }

    /// A time series: `labels` along x, each series a list of numbers (null: no value, a gap in a line).
    /// `kind` is "line" or "bar" (bars of the series side by side in each slot).
    function series(container, options) {
        const { labels, format = String, kind = "line", label } = options;
        const all = options.series;
        const svg = svgFor(container, label);
        legend(svg, all);
        let max = 0;
        for (const s of all) for (const v of s.values) if (v != null && v > max) max = v;
        const yTicks = ticks(max, 4);
        const yMax = yTicks[yTicks.length - 1] || 1;
        const { plotW, plotH } = axes(svg, labels, yTicks, yMax, format);
        const slot = plotW / Math.max(1, labels.length);
        const y = (v) => PAD.top + plotH - (v / yMax) * plotH;
        all.forEach((s, si) => {
            const color = s.color || PALETTE[si % PALETTE.length];
            if (kind === "bar") {
                const barW = Math.max(1, (slot * 0.8) / all.length);
                s.values.forEach((v, i) => {
                    if (v == null || v === 0) return;
                    const x = PAD.left + i * slot + slot * 0.1 + si * barW;
                    const bar = el("rect", { x, y: y(v), width: barW, height: plotH - (y(v) - PAD.top), fill: color }, svg);
                    title(bar, `${labels[i]} · ${s.name}: ${format(v)}`);
                });
                return;
            }
            let path = "";
            let pen = false;
            s.values.forEach((v, i) => {
                if (v == null) {
                    pen = false;
                    return;
                }
                const x = PAD.left + (i + 0.5) * slot;
                path += `${pen ? "L" : "M"}${x.toFixed(1)} ${y(v).toFixed(1)} `;
                pen = true;
                const dot = el("circle", { cx: x, cy: y(v), r: labels.length > 60 ? 1.2 : 2.5, fill: color }, svg);
                title(dot, `${labels[i]} · ${s.name}: ${format(v)}`);
            });
            if (path) el("path", { d: path.trim(), fill: "none", stroke: color, "stroke-width": 2 }, svg);
        });
        if (labels.length === 0) {
            text(svg, WIDTH / 2, HEIGHT / 2, "no data in this range", { class: "empty", "text-anchor": "middle" });
        }
        return svg;
    }

    /// Horizontal bars, one per item, largest first as given.
    function bars(container, options) {
        const { items, format = String, label } = options;
        container.replaceChildren();
        const rowH = 22;
        const height = Math.max(40, items.length * rowH + 12);
        const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "chart", role: "img", "aria-label": label || "chart" });
        container.appendChild(svg);
        const labelW = 220;
        const valueW = 90;
        const plotW = WIDTH - labelW - valueW - 12;
        const max = Math.max(0, ...items.map((i) => i.value)) || 1;
        items.forEach((item, i) => {
            const yTop = 6 + i * rowH;
            const name = item.label.length > 32 ? item.label.slice(0, 31) + "…" : item.label;
            text(svg, labelW - 8, yTop + 15, name, { class: "tick", "text-anchor": "end" });
            const w = Math.max(item.value > 0 ? 1 : 0, (item.value / max) * plotW);
            const bar = el("rect", { x: labelW, y: yTop + 3, width: w, height: rowH - 8, rx: 2, fill: PALETTE[i % PALETTE.length] }, svg);
            title(bar, `${item.label}: ${format(item.value)}`);
            text(svg, labelW + w + 6, yTop + 15, format(item.value), { class: "tick" });
        });
        if (items.length === 0) text(svg, WIDTH / 2, 24, "no data in this range", { class: "empty", "text-anchor": "middle" });
        return svg;
    }

    return { series, bars, palette: PALETTE };
})();
