/*
    The cmi5 LMS Test Suite's adapter for the portal (see lib/lms.template.js in the suite).

    It drives the portal the way a provider's staff member does in a browser: it signs in
    with the log-in form, uploads each package through the upload page (multipart form with
    the page's CSRF token), launches AUs with the package page's "Launch" form (the preview
    as a learner) and reads the launch URL from the player page, waives an AU and abandons
    a session with the package page's forms, and deletes the packages afterwards.
    Statements are read back from the portal's LRS with its read-only reporting account.

    Settings (environment, written to the suite's .env by tests/cmi5/test_lts.py):
    PORTAL_URL, PORTAL_EMAIL, PORTAL_PASSWORD, PORTAL_PROVIDER, LRS_ENDPOINT, LRS_KEY, LRS_SECRET.
*/
"use strict";

const Wreck = require("@hapi/wreck"),
    {InvalidPackageError} = require("./errors"),
    courses = [],
    byRegistration = {},
    bySession = {};
let portal,
    cookies = {};

const cookieHeader = () => Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; "),
    keepCookies = (res) => {
        for (const line of [].concat(res.headers["set-cookie"] || [])) {
            const [pair] = line.split(";"),
                index = pair.indexOf("=");

            cookies[pair.slice(0, index).trim()] = pair.slice(index + 1).trim();
        }
    },
    unescapeHtml = (text) => text.replace(/&quot;/g, "\"").replace(/&#34;/g, "\"").replace(/&#39;/g, "'")
        .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
    request = async (method, path, {payload, headers = {}} = {}) => {
        const res = await Wreck.request(method, `${portal}${path}`, {
                payload,
                headers: {...headers, Cookie: cookieHeader()},
                redirects: false
            }),
            body = (await Wreck.read(res)).toString("utf8");

        keepCookies(res);

        return {status: res.statusCode, headers: res.headers, body};
    },
    csrfOf = (html) => {
        const match = /name="csrf_token"[^>]*value="([^"]+)"/.exec(html);

        if (! match) {
            throw new Error("no CSRF token on the page");
        }

        return match[1];
    },
    postForm = async (path, formPage, fields) => {
        const page = await request("GET", formPage),
            body = new URLSearchParams({csrf_token: csrfOf(page.body), ...fields}).toString();

        return request("POST", path, {
            payload: body,
            headers: {"Content-Type": "application/x-www-form-urlencoded"}
        });
    },
    readStream = (stream) => new Promise((resolve, reject) => {
        const chunks = [];

        stream.on("data", (chunk) => chunks.push(chunk));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
        stream.on("error", reject);
    }),
    refusalOf = (html) => {
        const rule = /data-refusal-rule="([^"]*)"/.exec(html),
            message = /<div class="error-summary"[^>]*>\s*<h2>[^<]*<\/h2>\s*<p>([^<]*)/.exec(html);

        return rule ? {rule: rule[1], message: message ? unescapeHtml(message[1]) : ""} : null;
    };

module.exports = {
    setup: async () => {
        portal = process.env.PORTAL_URL.replace(/\/$/, "");
        cookies = {};

        const res = await postForm("/account/login", "/account/login", {
            email: process.env.PORTAL_EMAIL,
            password: process.env.PORTAL_PASSWORD
        });

        if (res.status !== 302 && res.status !== 303) {
            throw new Error(`Failed to sign in to the portal: ${res.status}`);
        }
    },

    teardown: async () => {
        cookies = {};
    },

    getLrsEndpoint: () => process.env.LRS_ENDPOINT.replace(/\/$/, ""),

    getLrsAuthHeader: () => `Basic ${Buffer.from(`${process.env.LRS_KEY}:${process.env.LRS_SECRET}`).toString("base64")}`,

    importCourse: async (stream, contentType, filename) => {
        const data = await readStream(stream),
            page = await request("GET", "/providers/packages/"),
            boundary = `----lts${Date.now()}${Math.random().toString(16).slice(2)}`,
            field = (name, value) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
            payload = Buffer.concat([
                field("csrf_token", csrfOf(page.body)),
                field("provider", process.env.PORTAL_PROVIDER),
                Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="package"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`),
                data,
                Buffer.from(`\r\n--${boundary}--\r\n`)
            ]),
            res = await request("POST", "/providers/packages/", {
                payload,
                headers: {"Content-Type": `multipart/form-data; boundary=${boundary}`}
            });

        if (res.status === 303) {
            const uid = res.headers.location.split("/").filter(Boolean).pop();

            courses.push(uid);

            return uid;
        }

        const refusal = refusalOf(res.body);

        if (res.status === 422 && refusal) {
            throw new InvalidPackageError(`Invalid package (${refusal.rule}): ${refusal.message}`);
        }

        throw new Error(`Failed LMS import of ${filename}: ${res.status}`);
    },

    getLaunchUrl: async (courseId, auIndex, actor, {registration, launchMode}) => {
        const res = await postForm(`/providers/packages/${courseId}/launch`, `/providers/packages/${courseId}`, {
                au: String(auIndex),
                mode: launchMode || "Normal"
            }),
            url = /data-launch-url="([^"]+)"/.exec(res.body),
            session = /data-session="([^"]+)"/.exec(res.body),
            reg = /data-registration="([^"]+)"/.exec(res.body);

        if (res.status !== 200 || ! url) {
            throw new Error(`Failed to launch AU ${auIndex} of ${courseId}: ${res.status}`);
        }

        // The portal keeps one registration per learner and course: a relaunch reuses it.
        if (registration && registration !== reg[1]) {
            throw new Error(`The portal launched registration ${reg[1]}, not ${registration}`);
        }

        byRegistration[reg[1]] = courseId;
        bySession[session[1]] = courseId;

        return unescapeHtml(url[1]);
    },

    cleanup: async () => {
        while (courses.length > 0) {
            const uid = courses.pop(),
                res = await postForm(`/providers/packages/${uid}/delete`, `/providers/packages/${uid}`, {});

            if (res.status !== 303) {
                console.log(`Failed to delete package ${uid}: ${res.status}`);
            }
        }
    },

    hasWaive: () => true,
    waiveAU: async (registration, auIndex, reason) => {
        const uid = byRegistration[registration],
            res = await postForm(`/providers/packages/${uid}/waive`, `/providers/packages/${uid}`, {
                registration,
                au: String(auIndex),
                reason
            });

        if (res.status !== 303) {
            throw new Error(`Failed to waive AU ${auIndex}: ${res.status}`);
        }
    },

    hasAbandon: () => true,
    abandonSession: async (sessionId) => {
        const uid = bySession[sessionId],
            res = await postForm(`/providers/packages/${uid}/abandon`, `/providers/packages/${uid}`, {
                session: sessionId
            });

        if (res.status !== 303) {
            throw new Error(`Failed to abandon session ${sessionId}: ${res.status}`);
        }
    }
};
