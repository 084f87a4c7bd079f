/* @ts-self-types="./jobpoll_wasm.d.ts" */
import { fetchAll } from './snippets/jobpoll-wasm-ac0826940b150f12/inline0.js';
import { OptionsError, JobpollError, ProfileError } from './snippets/jobpoll-wasm-ac0826940b150f12/inline1.js';
import { EventStream } from './snippets/jobpoll-wasm-ac0826940b150f12/inline2.js';


export { JobpollError }

/**
 * Many jobs waited on together, with one timer and shared polls.
 *
 * ```js
 * const jobs = new Jobs({ onEvent: (event) => console.log(event.summary) });
 * const outcome = await jobs.wait(statusUrl, { preset: "fast" });
 * if (outcome.ok) console.log(outcome.result);
 * else console.error(outcome.summary);
 * ```
 *
 * Options of the constructor, all optional: `onEvent` (called with every event
 * of every job), `maxConcurrent` (requests in flight at once, default 256),
 * `maxConcurrentPerOrigin` (default 32), `seed` (root of the jitter; random by
 * default, so that many pages do not poll in step), `pauseWhenHidden` (default
 * `true`: hold requests back while the page is hidden, resume as soon as it is
 * visible or the user acts on it), `storage` (where running
 * jobs, the history and the results are saved: `localStorage` by default,
 * `null` for memory only, or any object with `getItem`, `setItem` and
 * `removeItem`), `storageKey` (the prefix of the saved keys, default
 * `jobpoll`).
 */
export class Jobs {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        JobsFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_jobs_free(ptr, 0);
    }
    /**
     * Forgets the kept code generation results: all of them, or `graphId`'s.
     * @param {string | null} [graph_id_value]
     */
    clearResults(graph_id_value) {
        const ret = wasm.jobs_clearResults(this.__wbg_ptr, isLikeNone(graph_id_value) ? 0 : addToExternrefTable0(graph_id_value));
        if (ret[1]) {
            throw takeFromExternrefTable0(ret[0]);
        }
    }
    /**
     * The events of every wait, or of the wait `id`, as an async iterator:
     * `for await (const event of jobs.events(id)) ...`. The iterator of one
     * wait ends after its outcome (at once if no wait runs under `id`); the
     * iterator of every wait runs until the loop is left.
     *
     * Events not read yet are kept, at most `options.limit` of them (default
     * 1024): past it the oldest is dropped, the iterator's `dropped` counts it
     * and the next event read carries `dropped`, the number lost just before
     * it. Leaving the loop (`break`, `return()`) unsubscribes.
     * @param {number | null} [id]
     * @param {EventsOptions | null} [options]
     * @returns {EventStream}
     */
    events(id, options) {
        const ret = wasm.jobs_events(this.__wbg_ptr, isLikeNone(id) ? 0 : addToExternrefTable0(id), isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * The finished jobs, newest first (at most 100, kept across reloads):
     * `{id, url, outcome, ok, summary, jobId, startedAt, finishedAt,
     * durationMs}`, times in milliseconds (`Date.now()`).
     * @returns {HistoryEntry[]}
     */
    history() {
        const ret = wasm.jobs_history(this.__wbg_ptr);
        return ret;
    }
    /**
     * The waits still running, oldest first: `{id, url, mode, status}`.
     * @returns {Listed[]}
     */
    list() {
        const ret = wasm.jobs_list(this.__wbg_ptr);
        return ret;
    }
    /**
     * Counts over the life of these jobs and what they do now; `paused_by`
     * says why requests are held back (`"user"`, `"hidden"`).
     * @returns {Metrics}
     */
    metrics() {
        const ret = wasm.jobs_metrics(this.__wbg_ptr);
        return ret;
    }
    /**
     * A new set of jobs; see the type's documentation for `options`. Throws
     * an `OptionsError` naming the option that cannot work.
     * @param {JobsOptions | null} [options]
     */
    constructor(options) {
        const ret = wasm.jobs_new(isLikeNone(options) ? 0 : addToExternrefTable0(options));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        JobsFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * Holds every request back; the requests that fall due wait for
     * [`Jobs::resume`]. A page becoming visible does not undo it.
     */
    pause() {
        wasm.jobs_pause(this.__wbg_ptr);
    }
    /**
     * Resumes the jobs an earlier page saved under this `storageKey` (before a
     * reload), where they were: the same ids, URLs and state, the time the page
     * was away counted against their `timeout`. A create request that may have
     * reached the server is never sent again (the job then ends as `gave_up`,
     * `submit_uncertain`, unless it carried an `Idempotency-Key`).
     *
     * Returns `[{id, url, mode, outcome}]`, `outcome` a Promise as `wait`
     * returns. A saved job that cannot be resumed (bad data, another format) is
     * dropped with a `storage_warning` event.
     *
     * Several tabs may share one `storageKey`: a job runs in one of them. This
     * call takes the jobs this tab saved (before a reload), and the jobs of a
     * tab that is gone: closed (`pagehide`) or freed, or whose lease
     * (refreshed while it runs them) is older than 90 seconds. The jobs of a live tab stay saved; a later
     * call takes them once that tab is gone. A second call right away resumes
     * nothing more.
     * @returns {Restored[]}
     */
    restore() {
        const ret = wasm.jobs_restore(this.__wbg_ptr);
        return ret;
    }
    /**
     * The code generation results kept across reloads, as
     * `{graphId: {nodeId: [code, ...]}}` with the newest version of each node's
     * code last (at most 10 versions a node, 100 graphs); with `graphId`, the
     * same shape with that graph only.
     * @param {string | null} [graph_id_value]
     * @returns {CodegenResults}
     */
    results(graph_id_value) {
        const ret = wasm.jobs_results(this.__wbg_ptr, isLikeNone(graph_id_value) ? 0 : addToExternrefTable0(graph_id_value));
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Lets the requests held back by [`Jobs::pause`] go (unless the page is
     * hidden and `pauseWhenHidden` holds them).
     */
    resume() {
        wasm.jobs_resume(this.__wbg_ptr);
    }
    /**
     * Counts over the kept history: `{count, succeeded, failed, successRate,
     * averageCompletionMs}` (the last two `null` when it is empty).
     * @returns {HistoryStats}
     */
    stats() {
        const ret = wasm.jobs_stats(this.__wbg_ptr);
        return ret;
    }
    /**
     * Stops every wait; each resolves as cancelled.
     */
    stopAll() {
        wasm.jobs_stopAll(this.__wbg_ptr);
    }
    /**
     * Stops the wait `list()` shows as `id` (the `id` of the Promise `wait`
     * and `submit` return): it resolves as cancelled, and the server is asked
     * to cancel the job when nobody else waits on it, as with an
     * `AbortSignal`. False when no wait runs under that id (it ended, or never
     * was); throws an `OptionsError` when `id` is not a whole number.
     * @param {number} id
     * @returns {boolean}
     */
    stop(id) {
        const ret = wasm.jobs_stop(this.__wbg_ptr, id);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] !== 0;
    }
    /**
     * Creates a job (`POST url` with `body`, or `method`) and waits on it; the
     * options of [`Jobs::wait`], plus `method` and `body` (a string, or a value
     * sent as JSON).
     * @param {string} url
     * @param {SubmitOptions | null} [options]
     * @returns {WaitPromise}
     */
    submit(url, options) {
        const ptr0 = passStringToWasm0(url, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.jobs_submit(this.__wbg_ptr, ptr0, len0, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        return ret;
    }
    /**
     * Waits on the job whose status is at `url`; a Promise of its outcome,
     * whose `id` is the number `list()`, `stop(id)` and `events(id)` use.
     * `url` is read as `fetch` reads it: relative to the page's address, and
     * with an international host name in its ASCII form.
     *
     * Options, all optional: `profile` (a built-in name: `jobs`, `codegen`,
     * `file-tasks`, `turn`, `google`, `azure`; or a profile object in the JSON
     * form of `docs/profiles.md`), `preset`, `interval`, `timeout`,
     * `requestTimeout` (in ms), `maxAttempts`, `maxErrors`, `maxBodyBytes`,
     * `headers` (a plain object, a `Headers`, or `[name, value]` pairs),
     * `signal` (an `AbortSignal`: aborting it stops the wait, and asks the
     * server to cancel the job when nobody else waits on it; its listener is
     * removed when the wait ends), `onEvent` (this job's events), `persist`
     * (default `true`; `false` keeps the job out of storage, so that it is not
     * restored after a reload and its headers are not saved), `record`
     * (`true`: the job runs alone, outside the fleet, and its outcome gets
     * `trace`, the JSON lines `jobpoll-sim replay` replays, without the
     * secrets of the headers sent).
     *
     * The promise resolves with every outcome, success or not: a plain object
     * with `outcome` (`succeeded`, `failed`, `cancelled`, `timed_out`,
     * `gave_up`, `unauthorized`, `rejected`, `not_found`), `ok`, `summary` (a
     * sentence a person reads) and the outcome's fields (times in
     * microseconds). It rejects only when the arguments cannot work, with an
     * `OptionsError` (a `ProfileError` for a refused profile object).
     * @param {string} url
     * @param {WaitOptions | null} [options]
     * @returns {WaitPromise}
     */
    wait(url, options) {
        const ptr0 = passStringToWasm0(url, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.jobs_wait(this.__wbg_ptr, ptr0, len0, isLikeNone(options) ? 0 : addToExternrefTable0(options));
        return ret;
    }
}
if (Symbol.dispose) Jobs.prototype[Symbol.dispose] = Jobs.prototype.free;

export { OptionsError }

export { ProfileError }
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg___wbindgen_boolean_get_4f1baf9a00be3c74: function(arg0) {
            const v = arg0;
            const ret = typeof(v) === 'boolean' ? v : undefined;
            return isLikeNone(ret) ? 0xFFFFFF : ret ? 1 : 0;
        },
        __wbg___wbindgen_is_bigint_5fa10641e039d3ef: function(arg0) {
            const ret = typeof(arg0) === 'bigint';
            return ret;
        },
        __wbg___wbindgen_is_falsy_d864b623500ae65d: function(arg0) {
            const ret = !arg0;
            return ret;
        },
        __wbg___wbindgen_is_function_741ff2bb612836f5: function(arg0) {
            const ret = typeof(arg0) === 'function';
            return ret;
        },
        __wbg___wbindgen_is_null_c22311b1cc228e3a: function(arg0) {
            const ret = arg0 === null;
            return ret;
        },
        __wbg___wbindgen_is_object_8b968c3ab8e96595: function(arg0) {
            const val = arg0;
            const ret = typeof(val) === 'object' && val !== null;
            return ret;
        },
        __wbg___wbindgen_is_string_fc456fee5d3317de: function(arg0) {
            const ret = typeof(arg0) === 'string';
            return ret;
        },
        __wbg___wbindgen_is_symbol_f846131a047725ea: function(arg0) {
            const ret = typeof(arg0) === 'symbol';
            return ret;
        },
        __wbg___wbindgen_is_undefined_be5b34249ff1fc15: function(arg0) {
            const ret = arg0 === undefined;
            return ret;
        },
        __wbg___wbindgen_jsval_loose_eq_b2f214e2e4b30e36: function(arg0, arg1) {
            const ret = arg0 == arg1;
            return ret;
        },
        __wbg___wbindgen_number_get_934b640d0889af78: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'number' ? obj : undefined;
            getDataViewMemory0().setFloat64((arg0 >>> 0) + 8 * 1, isLikeNone(ret) ? 0 : ret, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, !isLikeNone(ret), true);
        },
        __wbg___wbindgen_string_get_7ce8eee7fd327545: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'string' ? obj : undefined;
            var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            var len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_throw_4c88d8bf264fd984: function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        },
        __wbg__end_b10fc523deb6adf1: function(arg0) {
            arg0._end();
        },
        __wbg__push_f0f53337a0b6c105: function(arg0, arg1) {
            const ret = arg0._push(arg1);
            return ret;
        },
        __wbg__wbg_cb_unref_09736879a3f67559: function(arg0) {
            arg0._wbg_cb_unref();
        },
        __wbg_abort_f8d1589eb0c65ee2: function(arg0) {
            arg0.abort();
        },
        __wbg_aborted_31456edf1be00084: function(arg0) {
            const ret = arg0.aborted;
            return ret;
        },
        __wbg_addEventListener_847fd86b8c33ec43: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            arg0.addEventListener(getStringFromWasm0(arg1, arg2), arg3);
        }, arguments); },
        __wbg_addEventListener_f2d27251d333a631: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
            arg0.addEventListener(getStringFromWasm0(arg1, arg2), arg3, arg4);
        }, arguments); },
        __wbg_apply_bfe2b07b146427e2: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.apply(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_call_40b008ba32f73991: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.call(arg1);
            return ret;
        }, arguments); },
        __wbg_call_a410eb4b59ed5965: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.call(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_clearTimeout_cc30bcaaa4bed6db: function(arg0) {
            clearTimeout(arg0);
        },
        __wbg_entries_7bb1459bd9b5c2b9: function(arg0) {
            const ret = Object.entries(arg0);
            return ret;
        },
        __wbg_fetchAll_26834c1212741504: function(arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8) {
            fetchAll(getStringFromWasm0(arg0, arg1), getStringFromWasm0(arg2, arg3), arg4, arg5, arg6, arg7, arg8);
        },
        __wbg_from_eac91875c8a5ffa4: function(arg0) {
            const ret = Array.from(arg0);
            return ret;
        },
        __wbg_get_2080c49015e35254: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_get_d7176cfb76d71114: function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        __wbg_get_unchecked_e6325ad374eff861: function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        __wbg_href_436d1661275da591: function(arg0, arg1) {
            const ret = arg1.href;
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg_instanceof_AbortSignal_16e867a9888f3bc7: function(arg0) {
            let result;
            try {
                result = arg0 instanceof AbortSignal;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_EventTarget_a8ec754d19c1e1e0: function(arg0) {
            let result;
            try {
                result = arg0 instanceof EventTarget;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Headers_3856949bb85a482d: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Headers;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Uint8Array_d7aeb0dcb3108fea: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Uint8Array;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_isArray_bcf1376d0d732d08: function(arg0) {
            const ret = Array.isArray(arg0);
            return ret;
        },
        __wbg_length_186163212ffe79c3: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_length_b03a0fabb109b1e9: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_new_37eb45aaf5eeb820: function() {
            const ret = new Array();
            return ret;
        },
        __wbg_new_5f28518387ad0e34: function() { return handleError(function () {
            const ret = new AbortController();
            return ret;
        }, arguments); },
        __wbg_new_7578abc84df4ed1a: function(arg0) {
            const ret = new EventStream(arg0 >>> 0);
            return ret;
        },
        __wbg_new_96baed0986e0d99f: function() { return handleError(function (arg0, arg1) {
            const ret = new URL(getStringFromWasm0(arg0, arg1));
            return ret;
        }, arguments); },
        __wbg_new_a0d287a57daee610: function(arg0, arg1, arg2) {
            const ret = new OptionsError(getStringFromWasm0(arg0, arg1), arg2);
            return ret;
        },
        __wbg_new_ba40181b3f24ac80: function(arg0, arg1) {
            try {
                var state0 = {a: arg0, b: arg1};
                var cb0 = (arg0, arg1) => {
                    const a = state0.a;
                    state0.a = 0;
                    try {
                        return wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined_______true_(a, state0.b, arg0, arg1);
                    } finally {
                        state0.a = a;
                    }
                };
                const ret = new Promise(cb0);
                return ret;
            } finally {
                state0.a = 0;
            }
        },
        __wbg_new_cd4348290afae586: function() {
            const ret = new Object();
            return ret;
        },
        __wbg_new_f1b0127eaaf963d2: function(arg0, arg1) {
            const ret = new JobpollError(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_no_args_7dba612d766302e4: function(arg0, arg1) {
            const ret = new Function(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_with_base_44e88b67db0c589b: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = new URL(getStringFromWasm0(arg0, arg1), getStringFromWasm0(arg2, arg3));
            return ret;
        }, arguments); },
        __wbg_now_42876c6c58fd70b5: function() {
            const ret = performance.now();
            return ret;
        },
        __wbg_now_463ac581d2fc7ea3: function() {
            const ret = Date.now();
            return ret;
        },
        __wbg_parse_c3f72b5a24f83c01: function() { return handleError(function (arg0, arg1) {
            const ret = JSON.parse(getStringFromWasm0(arg0, arg1));
            return ret;
        }, arguments); },
        __wbg_prototypesetcall_13162965d1fe7aa3: function(arg0, arg1, arg2) {
            Uint8Array.prototype.set.call(getArrayU8FromWasm0(arg0, arg1), arg2);
        },
        __wbg_push_c9f4893fc209f768: function(arg0, arg1) {
            const ret = arg0.push(arg1);
            return ret;
        },
        __wbg_random_df36b90cd78a7d54: function() {
            const ret = Math.random();
            return ret;
        },
        __wbg_reject_334b730b3c00849b: function(arg0) {
            const ret = Promise.reject(arg0);
            return ret;
        },
        __wbg_removeEventListener_201e37c3d905fe63: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
            arg0.removeEventListener(getStringFromWasm0(arg1, arg2), arg3, arg4);
        }, arguments); },
        __wbg_removeEventListener_4e20bd5fac3de092: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            arg0.removeEventListener(getStringFromWasm0(arg1, arg2), arg3);
        }, arguments); },
        __wbg_setTimeout_c568827a6c96d51f: function(arg0, arg1) {
            const ret = setTimeout(arg0, arg1);
            return ret;
        },
        __wbg_set_2793479888329cb6: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = Reflect.set(arg0, arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_set_capture_7526a72933d6e405: function(arg0, arg1) {
            arg0.capture = arg1 !== 0;
        },
        __wbg_set_capture_b40153f03cd482f8: function(arg0, arg1) {
            arg0.capture = arg1 !== 0;
        },
        __wbg_set_once_ee3e8ed5823add1f: function(arg0, arg1) {
            arg0.once = arg1 !== 0;
        },
        __wbg_set_passive_ac655beafedbb0a5: function(arg0, arg1) {
            arg0.passive = arg1 !== 0;
        },
        __wbg_static_accessor_GLOBAL_THIS_003ee833af9699fc: function() {
            const ret = typeof globalThis === 'undefined' ? undefined : globalThis;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_GLOBAL_e4293fb22cbe77da: function() {
            const ret = typeof global === 'undefined' ? undefined : global;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_SELF_53bb20457401453d: function() {
            const ret = typeof self === 'undefined' ? undefined : self;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_WINDOW_b5e0810bfecb7feb: function() {
            const ret = typeof window === 'undefined' ? undefined : window;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_stringify_0a0fbf2ef722380a: function() { return handleError(function (arg0) {
            const ret = JSON.stringify(arg0);
            return ret;
        }, arguments); },
        __wbindgen_generic_0000000000000001: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [Externref], shim_idx: 27, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___wasm_bindgen_8999ec673cc711d4___JsValue______true_);
            return ret;
        },
        __wbindgen_generic_0000000000000002: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [], shim_idx: 45, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke_______true_);
            return ret;
        },
        __wbindgen_generic_0000000000000003: function(arg0) {
            // Cast intrinsic for `F64 -> Externref`.
            const ret = arg0;
            return ret;
        },
        __wbindgen_generic_0000000000000004: function(arg0, arg1) {
            // Cast intrinsic for `Ref(String) -> Externref`.
            const ret = getStringFromWasm0(arg0, arg1);
            return ret;
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
            table.set(0, undefined);
            table.set(1024, undefined);
            table.set(1025, null);
            table.set(1026, true);
            table.set(1027, false);
        },
    };
    return {
        __proto__: null,
        "./jobpoll_wasm_bg.js": import0,
    };
}

function wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke_______true_(arg0, arg1) {
    wasm.wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke_______true_(arg0, arg1);
}

function wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___wasm_bindgen_8999ec673cc711d4___JsValue______true_(arg0, arg1, arg2) {
    wasm.wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___wasm_bindgen_8999ec673cc711d4___JsValue______true_(arg0, arg1, arg2);
}

function wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined_______true_(arg0, arg1, arg2, arg3) {
    wasm.wasm_bindgen_8999ec673cc711d4___convert__closures_____invoke___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined___js_sys_234d8a4c616a6cd5___Function_fn_wasm_bindgen_8999ec673cc711d4___JsValue_____wasm_bindgen_8999ec673cc711d4___sys__Undefined_______true_(arg0, arg1, arg2, arg3);
}

const JobsFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_jobs_free(ptr, 1));

function addToExternrefTable0(obj) {
    const idx = wasm.__externref_table_alloc();
    wasm.__wbindgen_externrefs.set(idx, obj);
    return idx;
}

const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(state => wasm.__wbindgen_destroy_closure(state.a, state.b));

function getArrayU8FromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);
}

let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    }
    return cachedDataViewMemory0;
}

function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}

let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    }
    return cachedUint8ArrayMemory0;
}

function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        const idx = addToExternrefTable0(e);
        wasm.__wbindgen_exn_store(idx);
    }
}

function isLikeNone(x) {
    return x === undefined || x === null;
}

function makeMutClosure(arg0, arg1, f) {
    const state = { a: arg0, b: arg1, cnt: 1 };
    const real = (...args) => {

        // First up with a closure we increment the internal reference
        // count. This ensures that the Rust closure environment won't
        // be deallocated while we're invoking it.
        state.cnt++;
        const a = state.a;
        state.a = 0;
        try {
            return f(a, state.b, ...args);
        } finally {
            state.a = a;
            real._wbg_cb_unref();
        }
    };
    real._wbg_cb_unref = () => {
        if (--state.cnt === 0) {
            wasm.__wbindgen_destroy_closure(state.a, state.b);
            state.a = 0;
            CLOSURE_DTORS.unregister(state);
        }
    };
    CLOSURE_DTORS.register(real, state, state);
    return real;
}

function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}

function takeFromExternrefTable0(idx) {
    const value = wasm.__wbindgen_externrefs.get(idx);
    wasm.__externref_table_dealloc(idx);
    return value;
}

let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
cachedTextDecoder.decode();
const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(bytes) {
    numBytesDecoded += bytes.length;
    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
        cachedTextDecoder.decode();
        numBytesDecoded = bytes.length;
    }
    return cachedTextDecoder.decode(bytes);
}

const cachedTextEncoder = new TextEncoder();

if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}

let WASM_VECTOR_LEN = 0;

let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
    wasmInstance = instance;
    wasm = instance.exports;
    wasmModule = module;
    cachedDataViewMemory0 = null;
    cachedUint8ArrayMemory0 = null;
    wasm.__wbindgen_start();
    return wasm;
}

async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}

let __wbg_init_promise;
async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;
    if (__wbg_init_promise === undefined) {
        __wbg_init_promise = __wbg_init_once(module_or_path);
        __wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
    }
    return __wbg_init_promise;
}

async function __wbg_init_once(module_or_path) {

    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }

    if (module_or_path === undefined) {
        module_or_path = new URL('jobpoll_wasm_bg.wasm', import.meta.url);
    }
    const imports = __wbg_get_imports();

    if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
        module_or_path = fetch(module_or_path);
    }

    const { instance, module } = await __wbg_load(await module_or_path, imports);

    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
