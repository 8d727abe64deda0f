// Tollgate dashboard: reads the gateway's REST API (/api/v1) with the token this tab holds, and draws it.
// The token comes from the page's fragment (#token=…, which never reaches the server) or the sign-in form, and is
// kept in sessionStorage only. Everything is built with DOM calls and textContent: nothing from the API is parsed
// as HTML.
"use strict";

(() => {
    const Charts = window.TollgateCharts;
    const $ = (selector) => document.querySelector(selector);
    const TOKEN_KEY = "tollgate.token";
    const ACCOUNT_KEY = "tollgate.account";
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;

    const state = {
        token: null,
        account: null,
        admin: false,
        gateway: "",
        range: null,
        cursors: [null],
        page: 0,
        nextCursor: null,
        detail: null,
        loading: 0,
        // Buckets are in the browser's time zone.
        zone: (Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC",
    };

    // ---- helpers -------------------------------------------------------------------------------------------------

    function h(tag, attrs, ...children) {
        const node = document.createElement(tag);
        for (const [key, value] of Object.entries(attrs || {})) {
            if (value == null || value === false) continue;
            if (key === "class") node.className = value;
            else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
            else node.setAttribute(key, value === true ? "" : String(value));
        }
        for (const child of children.flat()) {
            if (child == null) continue;
            node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
        }
        return node;
    }

    const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
    const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
    const fmtInt = (v) => (v == null ? "–" : integer.format(v));
    const fmtMs = (v) => (v == null ? "–" : v >= 10_000 ? `${decimal.format(v / 1000)} s` : `${integer.format(v)} ms`);
    const fmtPct = (v) => (v == null || !isFinite(v) ? "–" : `${(v * 100).toFixed(1)}%`);
    function fmtUSD(v) {
        if (v == null) return "–";
        const abs = Math.abs(v);
        const digits = abs >= 1 || abs === 0 ? 2 : abs >= 0.01 ? 4 : 6;
        return "$" + v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    function fmtCompact(v) {
        if (v == null) return "–";
        const abs = Math.abs(v);
        if (abs >= 1e9) return `${decimal.format(v / 1e9)}B`;
        if (abs >= 1e6) return `${decimal.format(v / 1e6)}M`;
        if (abs >= 1e3) return `${decimal.format(v / 1e3)}k`;
        return decimal.format(v);
    }
    const iso = (ms) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");

    function showError(message) {
        const banner = $("#banner");
        banner.textContent = message;
        banner.hidden = false;
    }
    function clearError() {
        $("#banner").hidden = true;
    }

    class APIError extends Error {
        constructor(status, code, message) {
            super(`${status} ${code}: ${message}`);
            this.status = status;
            this.code = code;
        }
    }

    /// Calls the REST API with the tab's token; JSON answers are parsed, others returned as text with their type.
    async function api(path, options = {}) {
        const headers = { Authorization: `Bearer ${state.token}` };
        if (options.body !== undefined) headers["Content-Type"] = "application/json";
        const response = await fetch(path, {
            method: options.method || "GET",
            headers,
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
            cache: "no-store",
        });
        const type = response.headers.get("content-type") || "";
        if (!response.ok) {
            let code = "error";
            let message = response.statusText;
            try {
                const body = await response.json();
                code = body.error.code;
                message = body.error.message;
            } catch (_) {
                /* not the API's error shape */
            }
            throw new APIError(response.status, code, message);
        }
        if (options.raw) return { type, text: await response.text() };
        return type.includes("application/json") ? response.json() : response.text();
    }

    const accountPath = (rest) => `/api/v1/accounts/${encodeURIComponent(state.account)}${rest}`;
    const query = (params) => {
        const search = new URLSearchParams();
        for (const [key, value] of Object.entries(params)) if (value != null && value !== "") search.set(key, value);
        const text = search.toString();
        return text ? `?${text}` : "";
    };

    // ---- sign-in ---------------------------------------------------------------------------------------------------

    /// An account token is `tg_` and 64 hex digits; anything else is taken as the admin token.
    const isAccountToken = (token) => /^tg_[0-9a-f]{64}$/.test(token);

    function readFragment() {
        if (!location.hash || location.hash.length < 2) return;
        const params = new URLSearchParams(location.hash.slice(1));
        const token = params.get("token");
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        const account = params.get("account");
        if (account) sessionStorage.setItem(ACCOUNT_KEY, account);
        // The token leaves the address bar (and the history entry) at once.
        history.replaceState(null, "", location.pathname + location.search);
    }

    function showSignIn() {
        $("#controls").hidden = true;
        $("#board").hidden = true;
        $("#sign-in").hidden = false;
        $("#sign-in-token").focus();
    }

    function signOut() {
        sessionStorage.removeItem(TOKEN_KEY);
        sessionStorage.removeItem(ACCOUNT_KEY);
        state.token = null;
        clearError();
        showSignIn();
    }

    async function start() {
        state.token = sessionStorage.getItem(TOKEN_KEY);
        if (!state.token) return showSignIn();
        state.admin = !isAccountToken(state.token);
        $("#sign-in").hidden = true;
        $("#controls").hidden = false;
        $("#board").hidden = false;
        const wanted = sessionStorage.getItem(ACCOUNT_KEY);
        const select = $("#account");
        const fixed = $("#account-fixed");
        try {
            if (state.admin) {
                const { accounts } = await api("/api/v1/accounts");
                select.replaceChildren(...accounts.map((a) => h("option", { value: a.id }, a.id)));
                const ids = accounts.map((a) => a.id);
                state.account = ids.includes(wanted) ? wanted : ids.includes("default") ? "default" : ids[0];
                select.value = state.account;
                select.hidden = false;
                fixed.hidden = true;
            } else {
                state.account = wanted || "default";
                fixed.textContent = state.account;
                select.hidden = true;
                fixed.hidden = false;
            }
        } catch (error) {
            if (error.status === 401) {
                signOut();
                return showError("The token was refused (401). Sign in again.");
            }
            return showError(`Could not list accounts: ${error.message}`);
        }
        await loadGateways();
        await refresh();
    }

    // ---- range -----------------------------------------------------------------------------------------------------

    /// A date input's day at local midnight (the browser's time zone), or NaN.
    function localDay(input) {
        const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.value);
        return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime() : NaN;
    }

    function computeRange() {
        const minute = 60_000;
        const choice = $("#range").value;
        const now = Math.ceil(Date.now() / minute) * minute;
        let from;
        let to;
        if (choice === "custom") {
            const f = localDay($("#from"));
            const t = localDay($("#to"));
            if (isNaN(t)) {
                to = now;
            } else {
                const end = new Date(t);
                end.setDate(end.getDate() + 1);
                to = end.getTime();
            }
            from = isNaN(f) ? to - 7 * DAY : f;
        } else {
            to = now;
            const span = { "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY }[choice] || 7 * DAY;
            from = to - span;
        }
        if (from >= to) from = to - DAY;
        const span = to - from;
        const interval = span <= 2 * DAY ? "hour" : span <= 120 * DAY ? "day" : "month";
        return { from, to, interval };
    }

    /// Every bucket start of the range in the buckets' time zone (the browser's, or UTC when the gateway does not
    /// know it), so quiet buckets show as zero rather than being skipped.
    function bucketStarts(range) {
        const out = [];
        const utc = state.zone === "UTC";
        const d = new Date(range.from);
        if (utc) {
            if (range.interval === "hour") d.setUTCMinutes(0, 0, 0);
            else d.setUTCHours(0, 0, 0, 0);
            if (range.interval === "month") d.setUTCDate(1);
        } else {
            if (range.interval === "hour") d.setMinutes(0, 0, 0);
            else d.setHours(0, 0, 0, 0);
            if (range.interval === "month") d.setDate(1);
        }
        while (d.getTime() < range.to && out.length < 10_000) {
            out.push(d.getTime());
            if (range.interval === "hour") d.setTime(d.getTime() + HOUR);
            else if (range.interval === "day") utc ? d.setUTCDate(d.getUTCDate() + 1) : d.setDate(d.getDate() + 1);
            else utc ? d.setUTCMonth(d.getUTCMonth() + 1) : d.setMonth(d.getMonth() + 1);
        }
        return out;
    }

    function bucketLabel(ms, interval) {
        const d = new Date(ms);
        const utc = state.zone === "UTC";
        const two = (n) => String(n).padStart(2, "0");
        const year = utc ? d.getUTCFullYear() : d.getFullYear();
        const month = two((utc ? d.getUTCMonth() : d.getMonth()) + 1);
        const day = two(utc ? d.getUTCDate() : d.getDate());
        if (interval === "hour") return `${month}-${day} ${two(utc ? d.getUTCHours() : d.getHours())}h`;
        if (interval === "month") return `${year}-${month}`;
        return `${month}-${day}`;
    }

    /// The usage API in the buckets' time zone; a zone the gateway refuses falls back to UTC once.
    async function usage(params) {
        try {
            return await api(accountPath("/usage") + query({ ...params, tz: state.zone }));
        } catch (error) {
            if (error.status !== 400 || !error.message.includes("tz:") || state.zone === "UTC") throw error;
            state.zone = "UTC";
            return api(accountPath("/usage") + query({ ...params, tz: state.zone }));
        }
    }

    // ---- overview ----------------------------------------------------------------------------------------------------

    async function loadGateways() {
        const select = $("#gateway");
        let ids = [];
        try {
            if (state.admin) {
                const { gateways } = await api(accountPath("/gateways"));
                ids = gateways.map((g) => g.id);
            } else {
                // An account token cannot list gateways; the ones with usage in the last 90 days stand in.
                const to = Math.ceil(Date.now() / 60_000) * 60_000;
                const usage = await api(accountPath("/usage") + query({ from: iso(to - 90 * DAY), to: iso(to), interval: "month", group_by: "gateway" }));
                ids = [...new Set(usage.rows.map((r) => r.gateway))].sort();
            }
        } catch (error) {
            showError(`Could not list gateways: ${error.message}`);
        }
        if (!ids.includes(state.gateway)) state.gateway = "";
        select.replaceChildren(h("option", { value: "" }, "all gateways"), ...ids.map((id) => h("option", { value: id }, id)));
        select.value = state.gateway;
        state.gateways = ids;
    }

    function addValues(into, row) {
        for (const key of ["requests", "errors", "cached_requests", "rate_limited", "spend_limited", "tokens_in", "tokens_out", "cost", "saved_cost", "unpriced"]) {
            into[key] = (into[key] || 0) + (row[key] || 0);
        }
        return into;
    }

    async function refresh() {
        clearError();
        const range = computeRange();
        state.range = range;
        const shown = $("#range-shown");
        shown.textContent = `${iso(range.from)} – ${iso(range.to)} · by ${range.interval} (${state.zone}) · ${state.gateway ? `gateway ${state.gateway}` : "all gateways"} · account ${state.account}`;
        shown.dataset.from = iso(range.from);
        shown.dataset.to = iso(range.to);
        shown.dataset.interval = range.interval;
        shown.dataset.zone = state.zone;
        $("#board").dataset.ready = "false";
        const base = { from: iso(range.from), to: iso(range.to), interval: range.interval };
        const gateway = state.gateway;
        const jobs = [
            usage({ ...base, group_by: gateway ? "gateway" : null }).then((answer) => drawOverview(answer, range, gateway)),
            usage({ ...base, group_by: gateway ? "gateway,provider,model" : "provider,model" }).then((answer) => drawBreakdown(answer, gateway)),
            api(accountPath("/quota")).then(drawQuota),
            loadSpend(),
            loadLogs(true),
        ];
        const results = await Promise.allSettled(jobs);
        const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
        if (failed.length) showError(failed.join(" · "));
        $("#board").dataset.ready = "true";
    }

    function drawOverview(usage, range, gateway) {
        const rows = gateway ? usage.rows.filter((r) => r.gateway === gateway) : usage.rows;
        const totals = gateway ? rows.reduce(addValues, {}) : usage.totals;
        const set = (id, text, value) => {
            const node = $(id);
            node.textContent = text;
            node.dataset.value = value == null ? "" : String(value);
        };
        const requests = totals.requests || 0;
        set("#total-requests", fmtInt(requests), requests);
        set("#total-tokens", `${fmtCompact(totals.tokens_in || 0)} / ${fmtCompact(totals.tokens_out || 0)}`, (totals.tokens_in || 0) + (totals.tokens_out || 0));
        set("#total-cost", fmtUSD(totals.cost || 0), totals.cost || 0);
        set("#total-errors", `${fmtInt(totals.errors || 0)} (${fmtPct(requests ? (totals.errors || 0) / requests : null)})`, totals.errors || 0);
        set("#total-cache-rate", fmtPct(requests ? (totals.cached_requests || 0) / requests : null), requests ? (totals.cached_requests || 0) / requests : "");
        set("#total-saved", fmtUSD(totals.saved_cost || 0), totals.saved_cost || 0);

        const starts = bucketStarts(range);
        const index = new Map(starts.map((s, i) => [s, i]));
        const byBucket = new Array(starts.length).fill(null);
        for (const row of rows) {
            const i = index.get(Date.parse(row.bucket));
            if (i !== undefined) byBucket[i] = row;
        }
        const labels = starts.map((s) => bucketLabel(s, range.interval));
        const pick = (f) => byBucket.map((row) => (row ? f(row) : 0));
        const pickOrNull = (f) => byBucket.map((row) => (row ? f(row) : null));
        Charts.series($("#chart-requests"), {
            labels, kind: "bar", format: fmtCompact, label: "requests over time",
            series: [
                { name: "requests", values: pick((r) => r.requests) },
                { name: "cache hits", values: pick((r) => r.cached_requests), color: "#1f9d6b" },
            ],
        });
        Charts.series($("#chart-tokens"), {
            labels, format: fmtCompact, label: "tokens over time",
            series: [
                { name: "tokens in", values: pick((r) => r.tokens_in) },
                { name: "tokens out", values: pick((r) => r.tokens_out), color: "#b45fd1" },
            ],
        });
        Charts.series($("#chart-cost"), {
            labels, kind: "bar", format: fmtUSD, label: "cost over time",
            series: [
                { name: "cost", values: pick((r) => r.cost) },
                { name: "cache savings", values: pick((r) => r.saved_cost), color: "#1f9d6b" },
            ],
        });
        Charts.series($("#chart-errors"), {
            labels, kind: "bar", format: fmtCompact, label: "errors over time",
            series: [
                { name: "errors", values: pick((r) => r.errors), color: "#e0563b" },
                { name: "rate limited", values: pick((r) => r.rate_limited), color: "#d89a17" },
                { name: "spend limited", values: pick((r) => r.spend_limited), color: "#5b6b7f" },
            ],
        });
        Charts.series($("#chart-cache"), {
            labels, format: fmtPct, label: "cache hit rate over time",
            series: [{ name: "cache hit rate", values: pickOrNull((r) => (r.requests ? r.cached_requests / r.requests : null)), color: "#1f9d6b" }],
        });
        const percentiles = (field) => [
            { name: "p50", values: pickOrNull((r) => r[field] && r[field].p50) },
            { name: "p95", values: pickOrNull((r) => r[field] && r[field].p95), color: "#d89a17" },
            { name: "p99", values: pickOrNull((r) => r[field] && r[field].p99), color: "#e0563b" },
        ];
        Charts.series($("#chart-latency"), { labels, format: fmtMs, label: "latency percentiles", series: percentiles("latency_ms") });
        Charts.series($("#chart-ttft"), { labels, format: fmtMs, label: "time to first token percentiles", series: percentiles("ttft_ms") });
    }

    function drawBreakdown(usage, gateway) {
        const rows = gateway ? usage.rows.filter((r) => r.gateway === gateway) : usage.rows;
        const groups = new Map();
        for (const row of rows) {
            const key = `${row.provider}\u0000${row.model ?? ""}`;
            const group = groups.get(key) || { provider: row.provider, model: row.model };
            groups.set(key, addValues(group, row));
        }
        const list = [...groups.values()].sort((a, b) => b.cost - a.cost || b.requests - a.requests);
        const total = list.reduce((t, g) => addValues(t, g), {});
        const body = $("#breakdown tbody");
        body.replaceChildren(
            ...list.map((g) =>
                h("tr", {},
                    h("td", {}, g.provider || "–"), h("td", {}, g.model || "(none)"),
                    h("td", { class: "num" }, fmtInt(g.requests)), h("td", { class: "num" }, fmtInt(g.errors)),
                    h("td", { class: "num" }, fmtInt(g.tokens_in)), h("td", { class: "num" }, fmtInt(g.tokens_out)),
                    h("td", { class: "num" }, fmtInt(g.cached_requests)), h("td", { class: "num" }, fmtUSD(g.saved_cost)),
                    h("td", { class: "num" }, fmtUSD(g.cost)))));
        $("#breakdown tfoot").replaceChildren(
            h("tr", {},
                h("td", {}, "Total"), h("td", {}, `${list.length} models`),
                h("td", { class: "num", id: "breakdown-requests", "data-value": total.requests || 0 }, fmtInt(total.requests || 0)),
                h("td", { class: "num" }, fmtInt(total.errors || 0)),
                h("td", { class: "num" }, fmtInt(total.tokens_in || 0)), h("td", { class: "num" }, fmtInt(total.tokens_out || 0)),
                h("td", { class: "num" }, fmtInt(total.cached_requests || 0)), h("td", { class: "num" }, fmtUSD(total.saved_cost || 0)),
                h("td", { class: "num", id: "breakdown-cost", "data-value": total.cost || 0 }, fmtUSD(total.cost || 0))));
        Charts.bars($("#chart-breakdown"), {
            label: "cost by provider and model",
            format: fmtUSD,
            items: list.slice(0, 12).map((g) => ({ label: `${g.provider} · ${g.model || "(none)"}`, value: g.cost })),
        });
    }

    function drawQuota(quota) {
        const used = quota.used;
        const limit = quota.limit;
        const share = limit > 0 ? Math.min(1, used / limit) : 1;
        const fill = h("div", { class: share >= 1 ? "quota-fill full" : "quota-fill" });
        fill.style.width = `${(share * 100).toFixed(1)}%`;
        $("#quota").replaceChildren(
            h("div", { id: "quota-text" }, `${fmtInt(used)} of ${fmtInt(limit)} logs in ${quota.period} (${fmtPct(limit > 0 ? used / limit : null)})`),
            h("div", { class: "quota-bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": limit, "aria-valuenow": used }, fill),
            h("div", { class: "muted" }, `tier ${quota.tier} · at the limit: ${quota.strategy.replaceAll("_", " ")} · resets ${quota.resets_at}`));
    }

    async function loadSpend() {
        const box = $("#spend");
        if (!state.admin) {
            box.replaceChildren(h("p", { class: "muted" }, "Spend limits are shown to the admin token."));
            return;
        }
        const gateways = state.gateway ? [state.gateway] : state.gateways || [];
        const answers = await Promise.all(gateways.map((g) => api(accountPath(`/gateways/${encodeURIComponent(g)}/spend`))));
        const rows = [];
        for (const answer of answers) {
            for (const rule of answer.rules || []) {
                const share = rule.limit > 0 ? Math.min(1, rule.spent / rule.limit) : 1;
                const fill = h("div", { class: share >= 1 ? "quota-fill full" : "quota-fill" });
                fill.style.width = `${(share * 100).toFixed(1)}%`;
                const partition = rule.partition ? ` · ${Object.entries(rule.partition).map(([k, v]) => `${k}=${v}`).join(", ")}` : "";
                rows.push(h("div", { class: "spend-rule" },
                    h("div", {}, `${answer.gateway} · ${rule.id}${partition}${rule.enabled && answer.enabled ? "" : " (off)"}: `,
                        `${fmtUSD(rule.spent)} of ${fmtUSD(rule.limit)} per ${fmtWindow(rule.window)} (${rule.technique})`),
                    h("div", { class: "quota-bar" }, fill)));
            }
        }
        box.replaceChildren(...(rows.length ? rows : [h("p", { class: "muted" }, "No spend-limit rules on these gateways.")]));
    }

    function fmtWindow(seconds) {
        if (seconds % 86400 === 0) return seconds === 86400 ? "day" : `${seconds / 86400} days`;
        if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} hours`;
        if (seconds % 60 === 0) return `${seconds / 60} min`;
        return `${seconds} s`;
    }

    // ---- logs ------------------------------------------------------------------------------------------------------

    function logFilters() {
        const form = $("#log-filters");
        const values = {};
        for (const element of form.elements) {
            if (element.name && element.value !== "") values[element.name] = element.value;
        }
        if (state.gateway) values.gateway = state.gateway;
        values.from = iso(state.range.from);
        values.to = iso(state.range.to);
        return values;
    }

    async function loadLogs(reset) {
        if (reset) {
            state.cursors = [null];
            state.page = 0;
        }
        const params = logFilters();
        const cursor = state.cursors[state.page];
        if (cursor) params.cursor = cursor;
        const answer = await api(accountPath("/logs") + query(params));
        state.nextCursor = answer.next_cursor || null;
        $("#logs-time").textContent = `Time (${state.zone})`;
        const body = $("#logs tbody");
        body.replaceChildren(
            ...answer.logs.map((log) => {
                const row = h("tr", {
                    "data-id": log.id, tabindex: 0, onclick: () => openLog(log.id),
                    onkeydown: (event) => { if (event.key === "Enter") openLog(log.id); },
                },
                    h("td", { title: log.created_at }, localTime(Date.parse(log.created_at))),
                    h("td", {}, log.gateway), h("td", {}, log.provider), h("td", {}, log.model || "–"),
                    h("td", { class: log.success ? "num" : "num status-bad" }, String(log.status_code)),
                    h("td", { class: "num" }, fmtMs(log.duration_ms)), h("td", { class: "num" }, fmtMs(log.ttft_ms)),
                    h("td", { class: "num" }, `${fmtInt(log.tokens_in)} / ${fmtInt(log.tokens_out)}`),
                    h("td", { class: "num" }, log.cost == null ? "unpriced" : fmtUSD(log.cost)),
                    h("td", {}, log.cached ? "hit" : ""),
                    h("td", { class: "feedback-cell" }, feedbackText(log.feedback)));
                if (state.detail === log.id) row.classList.add("selected");
                return row;
            }));
        if (answer.logs.length === 0) body.appendChild(h("tr", {}, h("td", { colspan: 11, class: "muted" }, "No logs match.")));
        $("#logs-page").textContent = `page ${state.page + 1} · ${answer.logs.length} logs`;
        $("#logs-next").disabled = !state.nextCursor;
        $("#logs-first").disabled = state.page === 0;
    }

    /// A log's time in the buckets' time zone, to the millisecond.
    function localTime(ms) {
        const d = new Date(ms);
        const utc = state.zone === "UTC";
        const two = (n) => String(n).padStart(2, "0");
        const date = utc
            ? `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
            : `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
        return `${date}.${String(d.getMilliseconds()).padStart(3, "0")}`;
    }

    const feedbackText = (f) => (f === 1 ? "good" : f === -1 ? "bad" : "");

    async function openLog(id) {
        state.detail = id;
        for (const row of document.querySelectorAll("#logs tbody tr")) row.classList.toggle("selected", row.dataset.id === id);
        const section = $("#log-detail");
        section.hidden = false;
        $("#detail-id").textContent = id;
        $("#detail-request").replaceChildren(h("p", { class: "muted" }, "loading…"));
        $("#detail-response").replaceChildren(h("p", { class: "muted" }, "loading…"));
        try {
            const log = await api(accountPath(`/logs/${encodeURIComponent(id)}`));
            drawDetail(log);
            section.scrollIntoView({ block: "start" });
            if (!log.payload_stored) {
                const none = () => h("p", { class: "muted" }, "Stored without its payload.");
                $("#detail-request").replaceChildren(none());
                $("#detail-response").replaceChildren(none());
                return;
            }
            const [request, response] = await Promise.all([
                api(accountPath(`/logs/${encodeURIComponent(id)}/request`), { raw: true }),
                api(accountPath(`/logs/${encodeURIComponent(id)}/response`), { raw: true }),
            ]);
            $("#detail-request").replaceChildren(...renderBody(request));
            $("#detail-response").replaceChildren(...renderBody(response));
        } catch (error) {
            showError(`Could not read log ${id}: ${error.message}`);
        }
    }

    function drawDetail(log) {
        const fields = [
            ["created", log.created_at], ["gateway", log.gateway], ["provider", log.provider], ["model", log.model],
            ["request", `${log.method} ${log.path}`], ["status", `${log.status_code}${log.success ? "" : " (error)"}`],
            ["stream", String(log.stream)], ["duration", fmtMs(log.duration_ms)], ["TTFT", fmtMs(log.ttft_ms)],
            ["tokens", `${fmtInt(log.tokens_in)} in (${fmtInt(log.cached_tokens_in)} cached) · ${fmtInt(log.tokens_out)} out (${fmtInt(log.reasoning_tokens)} reasoning)`],
            ["cost", log.cost == null ? "unpriced" : fmtUSD(log.cost)], ["cache", log.cached ? `hit, saved ${fmtUSD(log.saved)}` : "miss"],
            ["event", `${log.event_id} · attempt ${log.attempt}`], ["error", log.error],
            ["metadata", log.metadata && Object.keys(log.metadata).length ? JSON.stringify(log.metadata) : null],
            ["feedback", feedbackText(log.feedback) || "none"], ["score", log.score],
        ];
        $("#detail-fields tbody").replaceChildren(
            ...fields.filter(([, v]) => v != null && v !== "").map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, String(v)))),
            h("tr", {}, h("th", {}, "request headers"), h("td", {}, h("pre", {}, JSON.stringify(log.request_headers, null, 2)))),
            h("tr", {}, h("th", {}, "response headers"), h("td", {}, h("pre", {}, JSON.stringify(log.response_headers, null, 2)))));
        $("#feedback-up").classList.toggle("active", log.feedback === 1);
        $("#feedback-down").classList.toggle("active", log.feedback === -1);
        const cell = document.querySelector(`#logs tbody tr[data-id="${CSS.escape(log.id)}"] .feedback-cell`);
        if (cell) cell.textContent = feedbackText(log.feedback);
    }

    const pretty = (text) => {
        try {
            return JSON.stringify(JSON.parse(text), null, 2);
        } catch (_) {
            return text;
        }
    };

    /// A body as nodes: JSON pretty-printed; a stream (server-sent events) as its events, each data pretty-printed.
    function renderBody({ type, text }) {
        if (text === "") return [h("p", { class: "muted" }, "(empty)")];
        if (type.includes("text/event-stream")) {
            const events = text.split(/\r?\n\r?\n/).filter((block) => block.trim() !== "");
            const parsed = events.map((block) => {
                let name = "message";
                const data = [];
                for (const line of block.split(/\r?\n/)) {
                    if (line.startsWith("event:")) name = line.slice(6).trim();
                    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
                }
                return { name, data };
            });
            // A body labelled as a stream that holds no event is shown as it is.
            if (parsed.some((event) => event.data.length > 0)) {
                const nodes = [h("p", { class: "muted" }, `${parsed.length} events (${type})`)];
                for (const event of parsed) {
                    nodes.push(h("div", { class: "event-name" }, event.name), h("pre", { class: "event" }, pretty(event.data.join("\n"))));
                }
                return nodes;
            }
        }
        return [h("p", { class: "muted" }, type || "no content type"), h("pre", {}, type.includes("json") ? pretty(text) : text)];
    }

    async function setFeedback(value) {
        if (!state.detail) return;
        try {
            const log = await api(accountPath(`/logs/${encodeURIComponent(state.detail)}`), { method: "PATCH", body: { feedback: value } });
            drawDetail(log);
        } catch (error) {
            showError(`Could not save feedback: ${error.message}`);
        }
    }

    // ---- wiring ----------------------------------------------------------------------------------------------------

    function guarded(action) {
        return () => action().catch((error) => showError(error.message));
    }

    function wire() {
        $("#sign-in-form").addEventListener("submit", (event) => {
            event.preventDefault();
            sessionStorage.setItem(TOKEN_KEY, $("#sign-in-token").value.trim());
            const account = $("#sign-in-account").value.trim();
            if (account) sessionStorage.setItem(ACCOUNT_KEY, account);
            else sessionStorage.removeItem(ACCOUNT_KEY);
            $("#sign-in-token").value = "";
            guarded(start)();
        });
        $("#sign-out").addEventListener("click", signOut);
        $("#refresh").addEventListener("click", guarded(refresh));
        $("#account").addEventListener("change", guarded(async () => {
            state.account = $("#account").value;
            sessionStorage.setItem(ACCOUNT_KEY, state.account);
            state.gateway = "";
            state.detail = null;
            $("#log-detail").hidden = true;
            await loadGateways();
            await refresh();
        }));
        $("#gateway").addEventListener("change", guarded(async () => {
            state.gateway = $("#gateway").value;
            await refresh();
        }));
        $("#range").addEventListener("change", guarded(async () => {
            $("#custom-range").hidden = $("#range").value !== "custom";
            await refresh();
        }));
        $("#from").addEventListener("change", guarded(refresh));
        $("#to").addEventListener("change", guarded(refresh));
        $("#log-filters").addEventListener("submit", (event) => {
            event.preventDefault();
            guarded(() => loadLogs(true))();
        });
        $("#logs-next").addEventListener("click", guarded(async () => {
            if (!state.nextCursor) return;
            state.cursors[state.page + 1] = state.nextCursor;
            state.page += 1;
            await loadLogs(false);
        }));
        $("#logs-first").addEventListener("click", guarded(() => loadLogs(true)));
        $("#feedback-up").addEventListener("click", () => setFeedback(1));
        $("#feedback-down").addEventListener("click", () => setFeedback(-1));
        $("#feedback-clear").addEventListener("click", () => setFeedback(0));
        $("#detail-close").addEventListener("click", () => {
            $("#log-detail").hidden = true;
            state.detail = null;
        });
        window.addEventListener("hashchange", () => {
            readFragment();
            guarded(start)();
        });
    }

    readFragment();
    wire();
    guarded(start)();
})();
