// classify.test.mjs — POST /api/v1/classify (answers, roles, every bad input
// → 4xx JSON) and smart intake: a case registered without a category is
// classified, the register event records {"classified": …} (or only
// {"suggested": …} below the threshold), a case with a category is left
// alone. The demo city ships a trained model (cityops demo trains one);
// the server loads it, or trains it in the background when it is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { GRID_150102, POINT_150102, api, errorCode, loginAll, startServer } from './lib.mjs';

let srv;
let S;
const REQUEST_TYPES = ['consult', 'help', 'complaint', 'report', 'suggestion', 'praise'];
const SEVERITIES = ['normal', 'urgent', 'critical'];
const classify = (who, body) => api(srv, 'POST', '/api/v1/classify', { token: S[who]?.token, body });

before(async () => {
  srv = await startServer();
  S = await loginAll(srv);
  // the model is there at once, or after a background training
  for (let i = 0; i < 240; i++) {
    const r = await classify('operator', { text: '路灯不亮' });
    if (r.status === 200) return;
    assert.equal(r.status, 503, r.text);
    assert.equal(errorCode(r), 'classifier_not_ready');
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error('the classifier never became ready');
});
after(async () => {
  await srv?.stop();
});

function checkAnswer(j) {
  assert.equal(j.top.length, 3);
  let sum = 0;
  for (let i = 0; i < j.top.length; i++) {
    const t = j.top[i];
    assert.match(t.code, /^[CE]\d{4}$/);
    assert.equal(typeof t.major, 'string');
    assert.ok(t.minor.length > 0);
    assert.ok(t.score >= 0 && t.score <= 1);
    if (i > 0) assert.ok(t.score <= j.top[i - 1].score);
    sum += t.score;
  }
  assert.ok(sum <= 1.0005, `scores sum to ${sum}`);
  assert.ok(REQUEST_TYPES.includes(j.request_type));
  assert.ok(SEVERITIES.includes(j.severity));
  assert.ok(j.model.examples > 0);
  assert.equal(typeof j.model.version, 'number');
  assert.match(j.model.trained, /^\d{4}-\d\d-\d\dT/);
}

describe('POST /api/v1/classify', () => {
  test('answers the top 3 subclasses with departments, request type and severity', async () => {
    const r = await classify('operator', { text: '小区门口那盏路灯坏了一个星期，晚上黑漆漆的走路害怕' });
    assert.equal(r.status, 200, r.text);
    checkAnswer(r.json);
    assert.equal(r.json.top[0].minor, '路灯');
    assert.equal(r.json.top[0].code, 'C0112');
    // without a place: the department of the category's type at city level
    assert.equal(typeof r.json.department?.code, 'string');
    assert.deepEqual(r.json.department, r.json.top[0].department);
  });

  test('routes through the area when one is given', async () => {
    const r = await classify('dispatcher', { text: '早市的小贩把摊子摆到马路中间，占道经营', area: GRID_150102 });
    assert.equal(r.status, 200, r.text);
    checkAnswer(r.json);
    assert.equal(r.json.top[0].code, 'E0402');
    // the demo's E0402 rule for 新城区 sends it to the district's enforcement bureau
    assert.equal(r.json.department.code, 'D-CG-150102');
    const p = await classify('admin', { text: '早市的小贩把摊子摆到马路中间，占道经营', ...POINT_150102 });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.department.code, 'D-CG-150102');
  });

  test('danger cues make it 特急', async () => {
    const r = await classify('inspector', { text: '楼道里一股很浓的煤气味，邻居家没人' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.severity, 'critical');
    assert.equal(r.json.severity_zh, '特急');
  });

  test('staff roles only', async () => {
    for (const who of ['operator', 'inspector', 'shiftlead', 'dispatcher', 'admin'])
      assert.equal((await classify(who, { text: '井盖坏了' })).status, 200, who);
    for (const who of ['handler', 'leader']) {
      const r = await classify(who, { text: '井盖坏了' });
      assert.equal(r.status, 403, who);
      errorCode(r);
    }
    const anon = await api(srv, 'POST', '/api/v1/classify', { body: { text: '井盖坏了' } });
    assert.equal(anon.status, 401);
    errorCode(anon);
  });

  test('bad input is a 4xx JSON error', async () => {
    const bad = [
      [{}, 'missing_text'],
      [{ text: null }, 'missing_text'],
      [{ text: '' }, 'bad_text'],
      [{ text: '  \n ' }, 'bad_text'],
      [{ text: 42 }, 'bad_text'],
      [{ text: ['路灯'] }, 'bad_text'],
      [{ text: '路'.repeat(700) }, 'bad_text'], // 2,100 bytes
      [{ text: '路灯', area: '999999' }, 'bad_area'],
      [{ text: '路灯', area: 7 }, 'bad_area'],
      [{ text: '路灯', lon: 111.6 }, 'bad_point'],
      [{ text: '路灯', lon: 'x', lat: 40.8 }, 'bad_point'],
      [{ text: '路灯', lon: 500, lat: 40.8 }, 'bad_point'],
    ];
    for (const [body, code] of bad) {
      const r = await classify('operator', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorCode(r), code, JSON.stringify(body));
    }
    for (const raw of ['not json', '[1,2]', '{"text": "路灯"']) {
      const r = await api(srv, 'POST', '/api/v1/classify', { token: S.operator.token, body: raw });
      assert.ok(r.status >= 400 && r.status < 500, raw);
      errorCode(r);
    }
  });
});

describe('smart intake', () => {
  const registerData = async (id) => {
    const r = await api(srv, 'GET', `/api/v1/cases/${id}/events`, { token: S.operator.token });
    assert.equal(r.status, 200, r.text);
    const reg = r.json.events.find((e) => e.action === 'register');
    assert.ok(reg);
    return reg.data;
  };

  test('a case without a category is classified and the event says so', async () => {
    const r = await api(srv, 'POST', '/api/v1/cases', {
      token: S.operator.token,
      body: { description: '天然气管道漏气了，整个楼道都是燃气味，很危险', location: { ...POINT_150102 } },
    });
    assert.equal(r.status, 201, r.text);
    const data = await registerData(r.json.id);
    assert.ok(data.classified, JSON.stringify(data));
    assert.equal(data.classified.code, 'E0505');
    assert.ok(data.classified.score >= 0.7 && data.classified.score <= 1); // the default threshold
    assert.equal(typeof data.classified.model, 'number');
    assert.equal(r.json.category, 'E0505');
    assert.equal(data.case.category, 'E0505');
    // the caller gave no severity: the classifier's (a danger cue) is used
    assert.equal(r.json.severity, 'critical');
    assert.equal(data.classified.severity, 'critical');
  });

  test('what the caller gave is kept', async () => {
    const r = await api(srv, 'POST', '/api/v1/cases', {
      token: S.operator.token,
      body: {
        description: '天然气管道漏气了，整个楼道都是燃气味',
        severity: 'urgent',
        request_type: 'report',
        location: { ...POINT_150102 },
      },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.severity, 'urgent');
    assert.equal(r.json.request_type, 'report');
  });

  test('a case with a category is not classified', async () => {
    const r = await api(srv, 'POST', '/api/v1/cases', {
      token: S.operator.token,
      body: { description: '天然气管道漏气了', category: 'C0112', location: { ...POINT_150102 } },
    });
    assert.equal(r.status, 201, r.text);
    const data = await registerData(r.json.id);
    assert.equal(data.classified, undefined);
    assert.equal(data.suggested, undefined);
    assert.equal(r.json.category, 'C0112');
  });

  test('an unclear text stays unclassified with the suggestions stored', async () => {
    const r = await api(srv, 'POST', '/api/v1/cases', {
      token: S.operator.token,
      body: { description: '喂喂，你好，那个，嗯，就是想说一下', location: { ...POINT_150102 } },
    });
    assert.equal(r.status, 201, r.text);
    const data = await registerData(r.json.id);
    if (data.classified) {
      // the model was sure enough: then the case carries the category
      assert.equal(r.json.category, data.classified.code);
    } else {
      assert.equal(data.suggested.top.length, 3);
      assert.ok(data.suggested.top[0].score < 0.7);
      assert.ok(!r.json.category);
    }
  });

  test("the citizens' page is classified too", async () => {
    const r = await api(srv, 'POST', '/api/v1/public/cases', {
      body: { description: '小区门口那盏路灯坏了一个星期，晚上黑漆漆的走路害怕', location: { ...POINT_150102 } },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.category_name, '路灯');
  });
});
