/*
  The SCORM 1.2 API adapter (window.API) for one launch, served from the content origin.
  The whole SCORM 1.2 run-time data model with its error codes runs here (RTE 3.3-3.4); values
  are sent to the portal on LMSCommit and LMSFinish, with this launch's own address as its
  credential. The portal checks again what it keeps.
*/
(function () {
    "use strict";

    var runtime = document.currentScript.getAttribute("data-runtime"),
        ERRORS = {
            "0": "No error", "101": "General exception", "201": "Invalid argument error",
            "202": "Element cannot have children", "203": "Element not an array. Cannot have count",
            "301": "Not initialized", "401": "Not implemented error",
            "402": "Invalid set value, element is a keyword", "403": "Element is read only",
            "404": "Element is write only", "405": "Incorrect Data Type"
        },
        STATUSES = ["passed", "completed", "failed", "incomplete", "browsed"],
        INTERACTION_TYPES = ["true-false", "choice", "fill-in", "matching", "performance", "sequencing", "likert",
            "numeric"],
        RESULTS = ["correct", "wrong", "unanticipated", "neutral"],
        CHILDREN = {
            "cmi": "core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions",
            "cmi.core": "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time," +
                "lesson_mode,exit,session_time",
            "cmi.core.score": "raw,min,max",
            "cmi.objectives": "id,score,status",
            "cmi.student_data": "mastery_score,max_time_allowed,time_limit_action",
            "cmi.student_preference": "audio,language,speed,text",
            "cmi.interactions": "id,objectives,time,type,correct_responses,weighting,student_response,result,latency"
        },
        state = "new",
        lastError = "0",
        diagnostic = "",
        data = null,
        changed = {},
        newInteractions = [];

    function decimal(v) { return /^-?\d+(\.\d+)?$/.test(v); }
    function score(v) { return v === "" || (decimal(v) && Number(v) >= 0 && Number(v) <= 100); }
    function sinteger(low, high) {
        return function (v) { return /^-?\d+$/.test(v) && Number(v) >= low && Number(v) <= high; };
    }
    function string(max) { return function (v) { return v.length <= max; }; }
    function identifier(v) { return /^[\x21-\x7e]{1,255}$/.test(v); }
    function time(v) { return /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,2})?$/.test(v); }
    function timespan(v) { return /^\d{2,4}:[0-5]\d:[0-5]\d(\.\d{1,2})?$/.test(v); }
    function oneOf(list) { return function (v) { return list.indexOf(v) >= 0; }; }
    function feedback(v) { return v.length <= 255; }
    function result(v) { return RESULTS.indexOf(v) >= 0 || decimal(v); }

    // Each element: [pattern, access, get(match), type check, set(match, value)].
    function elements() {
        var core = data.core;
        function objective(m) { return data.objectives[Number(m[1])]; }
        function interaction(m) { return newInteractions[Number(m[1]) - data.storedInteractions]; }
        function setCore(key) {
            return function (m, v) { core[key] = v; changed[key] = v; };
        }
        function setScore(key) {
            return function (m, v) { core.score[key] = v; changed["score_" + key] = v; };
        }
        function setObjective(path) {
            return function (m, v) {
                var o = objective(m);
                if (path === "status" || path === "id") { o[path] = v; } else { o.score[path] = v; }
                changed.objectives = true;
            };
        }
        function setInteraction(key) {
            return function (m, v) { interaction(m)[key] = v; };
        }
        function setPreference(key) {
            return function (m, v) { data.student_preference[key] = v; changed.student_preference = true; };
        }
        return [
            [/^cmi\.core\.student_id$/, "ro", function () { return core.student_id; }],
            [/^cmi\.core\.student_name$/, "ro", function () { return core.student_name; }],
            [/^cmi\.core\.lesson_location$/, "rw", function () { return core.lesson_location; }, string(255),
                setCore("lesson_location")],
            [/^cmi\.core\.credit$/, "ro", function () { return core.credit; }],
            [/^cmi\.core\.lesson_status$/, "rw", function () { return core.lesson_status; }, oneOf(STATUSES),
                setCore("lesson_status")],
            [/^cmi\.core\.entry$/, "ro", function () { return core.entry; }],
            [/^cmi\.core\.score\.raw$/, "rw", function () { return core.score.raw; }, score, setScore("raw")],
            [/^cmi\.core\.score\.min$/, "rw", function () { return core.score.min; }, score, setScore("min")],
            [/^cmi\.core\.score\.max$/, "rw", function () { return core.score.max; }, score, setScore("max")],
            [/^cmi\.core\.total_time$/, "ro", function () { return core.total_time; }],
            [/^cmi\.core\.lesson_mode$/, "ro", function () { return core.lesson_mode; }],
            [/^cmi\.core\.exit$/, "wo", null, oneOf(["time-out", "suspend", "logout", ""]), setCore("exit")],
            [/^cmi\.core\.session_time$/, "wo", null, timespan, setCore("session_time")],
            [/^cmi\.suspend_data$/, "rw", function () { return data.suspend_data; }, string(4096),
                function (m, v) { data.suspend_data = v; changed.suspend_data = v; }],
            [/^cmi\.launch_data$/, "ro", function () { return data.launch_data; }],
            [/^cmi\.comments$/, "rw", function () { return data.comments; },
                function (v) { return (data.comments + v).length <= 4096; },
                function (m, v) { data.comments += v; changed.comments = data.comments; }],
            [/^cmi\.comments_from_lms$/, "ro", function () { return data.comments_from_lms; }],
            [/^cmi\.objectives\.(\d+)\.id$/, "rw", function (m) { return objective(m).id; }, identifier,
                setObjective("id"), "objectives"],
            [/^cmi\.objectives\.(\d+)\.score\.(raw|min|max)$/, "rw", function (m) { return objective(m).score[m[2]]; },
                score, function (m, v) { setObjective(m[2])(m, v); }, "objectives"],
            [/^cmi\.objectives\.(\d+)\.status$/, "rw", function (m) { return objective(m).status; },
                oneOf(STATUSES.concat(["not attempted"])), setObjective("status"), "objectives"],
            [/^cmi\.student_data\.mastery_score$/, "ro", function () { return data.student_data.mastery_score; }],
            [/^cmi\.student_data\.max_time_allowed$/, "ro", function () { return data.student_data.max_time_allowed; }],
            [/^cmi\.student_data\.time_limit_action$/, "ro",
                function () { return data.student_data.time_limit_action; }],
            [/^cmi\.student_preference\.audio$/, "rw", function () { return data.student_preference.audio; },
                sinteger(-1, 100), setPreference("audio")],
            [/^cmi\.student_preference\.language$/, "rw", function () { return data.student_preference.language; },
                string(255), setPreference("language")],
            [/^cmi\.student_preference\.speed$/, "rw", function () { return data.student_preference.speed; },
                sinteger(-100, 100), setPreference("speed")],
            [/^cmi\.student_preference\.text$/, "rw", function () { return data.student_preference.text; },
                sinteger(-1, 1), setPreference("text")],
            [/^cmi\.interactions\.(\d+)\.id$/, "wo", null, identifier, setInteraction("id"), "interactions"],
            [/^cmi\.interactions\.(\d+)\.objectives\.(\d+)\.id$/, "wo", null, identifier, function (m, v) {
                interaction(m).objectives[Number(m[2])] = v;
            }, "interaction-objectives"],
            [/^cmi\.interactions\.(\d+)\.time$/, "wo", null, time, setInteraction("time"), "interactions"],
            [/^cmi\.interactions\.(\d+)\.type$/, "wo", null, oneOf(INTERACTION_TYPES), setInteraction("type"),
                "interactions"],
            [/^cmi\.interactions\.(\d+)\.correct_responses\.(\d+)\.pattern$/, "wo", null, feedback, function (m, v) {
                interaction(m).correct_responses[Number(m[2])] = v;
            }, "interaction-responses"],
            [/^cmi\.interactions\.(\d+)\.weighting$/, "wo", null, decimal, setInteraction("weighting"), "interactions"],
            [/^cmi\.interactions\.(\d+)\.student_response$/, "wo", null, feedback, setInteraction("student_response"),
                "interactions"],
            [/^cmi\.interactions\.(\d+)\.result$/, "wo", null, result, setInteraction("result"), "interactions"],
            [/^cmi\.interactions\.(\d+)\.latency$/, "wo", null, timespan, setInteraction("latency"), "interactions"]
        ];
    }

    function fail(code, why) {
        lastError = code;
        diagnostic = why || "";
        return code === "0";
    }

    function find(name) {
        var list = elements(), i, m;
        for (i = 0; i < list.length; i += 1) {
            m = list[i][0].exec(name);
            if (m) {
                return {match: m, access: list[i][1], get: list[i][2], check: list[i][3], set: list[i][4],
                    array: list[i][5]};
            }
        }
        return null;
    }

    // The count of an array element, or -1 when `name` is not an array.
    function countOf(name) {
        var m;
        if (name === "cmi.objectives") { return data.objectives.length; }
        if (name === "cmi.interactions") { return data.storedInteractions + newInteractions.length; }
        m = /^cmi\.interactions\.(\d+)\.(objectives|correct_responses)$/.exec(name);
        if (m) {
            var it = newInteractions[Number(m[1]) - data.storedInteractions];
            return it ? it[m[2]].length : (Number(m[1]) < data.storedInteractions ? 0 : -2);
        }
        return -1;
    }

    function isElement(name) {
        return find(name + ".x") !== null || CHILDREN.hasOwnProperty(name) || find(name) !== null ||
            /^cmi\.(core|suspend_data|launch_data|comments|comments_from_lms|student_data|student_preference)$/.test(name);
    }

    function json(method, path, body) {
        var xhr = new XMLHttpRequest();
        xhr.open(method, runtime + path, false);  // the SCORM API is synchronous
        if (body) { xhr.setRequestHeader("Content-Type", "application/json"); }
        xhr.send(body ? JSON.stringify(body) : null);
        return xhr;
    }

    function pending(finish) {
        var values = {}, keys = ["lesson_location", "lesson_status", "score_raw", "score_min", "score_max", "exit",
            "session_time", "suspend_data", "comments"], i;
        for (i = 0; i < keys.length; i += 1) {
            if (changed.hasOwnProperty(keys[i])) { values[keys[i]] = changed[keys[i]]; }
        }
        if (changed.student_preference) { values.student_preference = data.student_preference; }
        if (changed.objectives) {
            values.objectives = data.objectives.map(function (o) {
                return {id: o.id, score_raw: o.score.raw, score_min: o.score.min, score_max: o.score.max,
                    status: o.status};
            });
        }
        if (newInteractions.length) { values.interactions = newInteractions; }
        return {values: values, finish: finish};
    }

    function send(finish) {
        var xhr;
        try {
            xhr = json("POST", "/commit", pending(finish));
        } catch (e) {
            return fail("101", "the portal could not be reached: " + e);
        }
        if (xhr.status !== 204) {
            return fail("101", "the portal refused the data (" + xhr.status + "): " + xhr.responseText);
        }
        // The session time counts once, at LMSFinish: keep the latest until then.
        changed = finish || !changed.hasOwnProperty("session_time") ? {} : {session_time: changed.session_time};
        data.storedInteractions += newInteractions.length;
        newInteractions = [];
        return fail("0");
    }

    window.API = {
        LMSInitialize: function (arg) {
            if (arg !== "") { fail("201", "LMSInitialize takes an empty string"); return "false"; }
            if (state !== "new") { fail("101", "already initialized in this launch"); return "false"; }
            var xhr = json("GET", "/data");
            if (xhr.status !== 200) { fail("101", "the launch is no longer valid (" + xhr.status + ")"); return "false"; }
            var d = JSON.parse(xhr.responseText);
            data = {
                core: {student_id: d.student_id, student_name: d.student_name, lesson_location: d.lesson_location,
                    credit: d.credit, lesson_status: d.lesson_status, entry: d.entry,
                    score: {raw: d.score_raw, min: d.score_min, max: d.score_max}, total_time: d.total_time,
                    lesson_mode: d.lesson_mode, exit: "", session_time: ""},
                suspend_data: d.suspend_data, launch_data: d.launch_data, comments: d.comments,
                comments_from_lms: d.comments_from_lms,
                objectives: d.objectives.map(function (o) {
                    return {id: o.id, score: {raw: o.score_raw, min: o.score_min, max: o.score_max}, status: o.status};
                }),
                student_data: {mastery_score: d.mastery_score, max_time_allowed: d.max_time_allowed,
                    time_limit_action: d.time_limit_action},
                student_preference: d.student_preference, storedInteractions: d.interaction_count
            };
            state = "running";
            fail("0");
            return "true";
        },
        LMSFinish: function (arg) {
            if (arg !== "") { fail("201", "LMSFinish takes an empty string"); return "false"; }
            if (state !== "running") { fail("301", "LMSInitialize has not been called"); return "false"; }
            if (!send(true)) { return "false"; }
            state = "finished";
            return "true";
        },
        LMSCommit: function (arg) {
            if (arg !== "") { fail("201", "LMSCommit takes an empty string"); return "false"; }
            if (state !== "running") { fail("301", "LMSInitialize has not been called"); return "false"; }
            return send(false) ? "true" : "false";
        },
        LMSGetValue: function (name) {
            if (state !== "running") { fail("301", "LMSInitialize has not been called"); return ""; }
            if (typeof name !== "string" || name === "") { fail("201", "no element named"); return ""; }
            var m = /^(.*)\._(children|count)$/.exec(name), element, count;
            if (m) {
                if (m[2] === "children") {
                    if (CHILDREN.hasOwnProperty(m[1])) { fail("0"); return CHILDREN[m[1]]; }
                    if (/^cmi\.objectives\.\d+\.score$/.test(m[1]) && countOf("cmi.objectives") > Number(m[1].split(".")[2])) {
                        fail("0");
                        return "raw,min,max";
                    }
                    fail(isElement(m[1]) ? "202" : "201", m[1] + " has no children");
                    return "";
                }
                count = countOf(m[1]);
                if (count >= 0) { fail("0"); return String(count); }
                fail(isElement(m[1]) ? "203" : "201", m[1] + " is not an array");
                return "";
            }
            element = find(name);
            if (!element) { fail("201", name + " is not a SCORM 1.2 element"); return ""; }
            if (element.access === "wo") { fail("404", name + " is write only"); return ""; }
            if (element.array === "objectives" && Number(element.match[1]) >= data.objectives.length) {
                fail("201", name + ": no such objective");
                return "";
            }
            fail("0");
            return String(element.get(element.match));
        },
        LMSSetValue: function (name, value) {
            if (state !== "running") { fail("301", "LMSInitialize has not been called"); return "false"; }
            if (typeof name !== "string" || name === "") { fail("201", "no element named"); return "false"; }
            if (/\._(children|count|version)$/.test(name)) { fail("402", name + " is a keyword"); return "false"; }
            var element = find(name), index, it, sub, count;
            if (!element) { fail("201", name + " is not a SCORM 1.2 element"); return "false"; }
            if (element.access === "ro") { fail("403", name + " is read only"); return "false"; }
            value = String(value);
            if (!element.check(value)) { fail("405", value + " is not a valid value for " + name); return "false"; }
            if (element.array === "objectives") {
                index = Number(element.match[1]);
                if (index > data.objectives.length) { fail("201", "objectives are added in order"); return "false"; }
                if (index === data.objectives.length) {
                    if (!/\.id$/.test(name)) { fail("201", "a new objective starts with its id"); return "false"; }
                    data.objectives.push({id: "", score: {raw: "", min: "", max: ""}, status: "not attempted"});
                }
            } else if (element.array) {
                index = Number(element.match[1]) - data.storedInteractions;
                if (index < 0) { fail("201", "earlier interactions are stored and cannot change"); return "false"; }
                if (index > newInteractions.length) { fail("201", "interactions are added in order"); return "false"; }
                if (index === newInteractions.length) {
                    if (!/^cmi\.interactions\.\d+\.id$/.test(name)) {
                        fail("201", "a new interaction starts with its id");
                        return "false";
                    }
                    newInteractions.push({id: "", objectives: [], time: "", type: "", correct_responses: [],
                        weighting: "", student_response: "", result: "", latency: ""});
                }
                it = newInteractions[index];
                if (element.array !== "interactions") {
                    sub = Number(element.match[2]);
                    count = element.array === "interaction-objectives" ? it.objectives.length : it.correct_responses.length;
                    if (sub > count) { fail("201", "array entries are added in order"); return "false"; }
                }
            }
            element.set(element.match, value);
            fail("0");
            return "true";
        },
        LMSGetLastError: function () { return lastError; },
        LMSGetErrorString: function (code) { return ERRORS[String(code)] || ""; },
        LMSGetDiagnostic: function (code) {
            if (code === "" || code === undefined || String(code) === lastError) { return diagnostic || ERRORS[lastError]; }
            return ERRORS[String(code)] || "";
        }
    };

    // A learner who closes the window without LMSFinish keeps what was set (not a finish).
    window.addEventListener("pagehide", function () {
        if (state === "running" && navigator.sendBeacon) {
            navigator.sendBeacon(runtime + "/commit", new Blob([JSON.stringify(pending(false))],
                {type: "application/json"}));
        }
    });
}());
