// The list view: the filters, a page of traces newest first, and paging that follows the API's
// cursor (next_page_uri's AfterSid), all reflected in the page's address.
import {requestJson, tracesPath} from './api.js';
import {h, replace} from './dom.js';
import {filterForm, filtersOf} from './filters.js';
import {go} from './route.js';
import {traceRow, traceTable} from './trace_table.js';

export const pageSize = 50;
// The cursor seen for each (filters, page): "Newer" goes back to a page with the same
// records it showed, not to one shifted by traces that arrived since.
const cursors = new Map();

/** The API path of a route's list page. */
export function listPath(account, params, suffix = '.json') {
  const query = filtersOf(params);
  query.set('PageSize', String(pageSize));
  if (params.get('Page')) query.set('Page', params.get('Page'));
  if (params.get('AfterSid')) query.set('AfterSid', params.get('AfterSid'));
  return `${tracesPath(account)}${suffix}?${query}`;
}

/** The AfterSid of a next_page_uri, or null. */
function afterSidOf(uri) {
  if (!uri || uri === 'null') return null;
  return new URLSearchParams(uri.slice(uri.indexOf('?') + 1)).get('AfterSid');
}

/**
 * Renders the list of `route` into `root`. `extras` are controls for the toolbar (live, HAR),
 * `onPage(page, tbody)` is told what was drawn.
 */
export async function renderList(root, route, account, {signal, toolbar = [], onPage} = {}) {
  const params = route.params;
  const withParams = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) next.delete(k); else next.set(k, v);
    }
    return next;
  };
  const form = filterForm(params, (filters) => {
    const next = new URLSearchParams(filters);
    if (params.get('account')) next.set('account', params.get('account'));
    go({view: 'list', params: next});
  });
  const summary = h('p', {class: 'summary', role: 'status'}, 'Loading…');
  const {table, tbody} = traceTable('Traces, newest first');
  const newer = h('button', {type: 'button', disabled: true}, '← Newer');
  const older = h('button', {type: 'button', disabled: true}, 'Older →');
  const pager = h('nav', {class: 'pager', 'aria-label': 'Pages'}, newer, older);
  replace(root,
    h('h2', {id: 'list-title'}, 'Traces'),
    form,
    h('div', {class: 'toolbar'}, summary, toolbar),
    h('div', {class: 'table-wrap'}, table),
    pager);

  const page = await requestJson(listPath(account, params), {signal});
  performance.mark('list:answer');
  const rows = document.createDocumentFragment();
  for (const record of page.traces) rows.appendChild(traceRow(record, params));
  tbody.appendChild(rows);
  const total = Number(page.total);
  summary.textContent = page.traces.length === 0
    ? 'No traces match these filters.'
    : `Traces ${Number(page.start) + 1}–${Number(page.start) + page.traces.length} of ${total}`;
  performance.mark('list:drawn');
  performance.measure('list:draw', 'list:answer', 'list:drawn');

  const filterKey = filtersOf(params).toString();
  const pageNo = Number(page.page);
  cursors.set(`${filterKey}|${pageNo}`, params.get('AfterSid'));
  const nextCursor = afterSidOf(page.next_page_uri);
  if (page.next_page_uri !== 'null') {
    older.disabled = false;
    older.addEventListener('click', () => go({view: 'list',
      params: withParams({Page: String(pageNo + 1), AfterSid: nextCursor})}));
  }
  if (pageNo > 0) {
    newer.disabled = false;
    newer.addEventListener('click', () => {
      const cursor = cursors.get(`${filterKey}|${pageNo - 1}`) ?? null;
      go({view: 'list', params: withParams(pageNo - 1 === 0
        ? {Page: null, AfterSid: null} : {Page: String(pageNo - 1), AfterSid: cursor})});
    });
  }
  onPage?.(page, tbody);
  return page;
}
