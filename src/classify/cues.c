/* cues.c — danger cue tables and matching (see cues.h). */
#include "classify/cues.h"

#include <string.h>

#include "classify/features.h"

#define ALT_MAX 20

typedef struct cue {
    const char *name;
    const char *const all[3][ALT_MAX]; /* every non-empty group must match; NULL ends a group */
} cue;

static const cue cues[] = {
    {"gas",
     {{"燃气泄漏", "煤气泄漏", "天然气泄漏", "液化气泄漏", "燃气管道泄漏", "燃气味", "煤气味",
       "天然气味", "液化气味", "闻到燃气", "闻到煤气", "闻到天然气", "一股煤气", "一股燃气",
       "漏气", "燃气管漏", "漏燃气", "液化气罐", NULL}}},
    {"open_manhole",
     {{"井盖", "井口", "窨井", "下水井", "检查井", "井盖子", "雨水井", "污水井", NULL},
      {"没了", "丢了", "丢失", "缺失", "被偷", "敞开", "敞着", "掀开", "不见了", "没有盖",
       "没盖", "被盗", "掉进", "掉下去", "张着口", "露着口", "大窟窿", "黑洞洞", NULL}}},
    {"collapse",
     {{"塌陷", "坍塌", "塌方", "塌了", "陷下去", "地陷", "倒塌", "陷了个", "塌出", NULL}}},
    {"trapped",
     {{"被困", "困在", "困人", "关在电梯", "卡在电梯", "电梯里出不来", "困住", NULL}}},
    {"lift_with_people",
     {{"电梯", NULL},
      {"卡住", "卡在", "停在", "突然停", "下坠", "门打不开", "出不来", "停了", NULL},
      {"里面", "人在", "在里头", "关着", NULL}}},
    {"fire", {{"着火", "起火", "火灾", "失火", "烧起来", "火苗", "明火", "烧着了", NULL}}},
    {"live_wire",
     {{"电线", "电缆", "高压线", "电力线", "线缆", NULL},
      {"断了", "掉落", "掉下来", "垂下来", "耷拉", "漏电", "搭在", "落地", "冒火花", "打火",
       "拖在地上", "断落", NULL}}},
    {"electrocution", {{"触电", "漏电伤人", "电到人", NULL}}},
    {"burst_main",
     {{"爆管", "爆裂", "爆了", "崩了", "破了", "裂了", "冻裂", "挖破", "撞飞", "撞断", "撞坏",
       NULL},
      {"水管", "管道", "自来水", "供水管", "主管", "给水管", "管子", "消火栓", "消防栓", NULL},
      {"喷", "淹", "成河", "冒水", "哗哗", "涌", NULL}}},
    {"hot_water",
     {{"冒白汽", "冒热气", "蒸汽", "热水管", "暖气管", NULL}, {"烫", "喷", "热水", NULL}}},
    {"fallen_tree",
     {{"树", NULL},
      {"倒", "折断", "断了", "连根", "刮断", NULL},
      {"横在", "砸", "压在", "挡住", "拦住", "堵住", "堵死", "挡了", "悬在", NULL}}},
};

static int group_matches(const char *text, const char *const *alts)
{
    for (int i = 0; i < ALT_MAX && alts[i]; i++)
        if (strstr(text, alts[i]))
            return 1;
    return 0;
}

const char *co_clf_danger_cue(const char *text, size_t len)
{
    char buf[CO_FEAT_TEXT_MAX + 1];
    if (len > CO_FEAT_TEXT_MAX)
        len = CO_FEAT_TEXT_MAX;
    memcpy(buf, text, len);
    buf[len] = '\0';
    for (size_t i = 0; i < sizeof cues / sizeof cues[0]; i++) {
        int ok = 1;
        for (int g = 0; g < 3 && ok && cues[i].all[g][0]; g++)
            ok = group_matches(buf, cues[i].all[g]);
        if (ok)
            return cues[i].name;
    }
    return NULL;
}

int co_clf_danger(const char *text, size_t len)
{
    return co_clf_danger_cue(text, len) != NULL;
}
